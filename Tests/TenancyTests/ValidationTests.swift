import Foundation
import Tenancy
import Testing

/// The field rules handlers and services share, each as `openapi.yaml` states it; a refusal names the
/// field and the rule, never the value.
@Suite struct ValidationTests {
    static func refusal(_ body: () throws -> Void) -> Refusal? {
        do {
            try body()
            return nil
        } catch { return error as? Refusal }
    }

    @Test(arguments: ["a@b.co", "first.last+tag@example.com", "ü@bücher.de"])
    func anEmailIsTaken(email: String) {
        #expect(Self.refusal { try Validation.email(email, field: "email") } == nil)
    }

    @Test(arguments: ["", "a", "a@b", "@b.co", "a@.co", "a@co.", "a b@c.co", "a@b.co\u{7}", "a@@b.co"])
    func anythingElseIsNotAnEmail(email: String) {
        #expect(
            Self.refusal { try Validation.email(email, field: "admin_email") }
                == .invalid("admin_email must be an email address."))
    }

    @Test func namesAreTrimmedAndBounded() throws {
        #expect(try Validation.name("  Acme  ", field: "name", maxLength: 10) == "Acme")
        let refused = Refusal.invalid("name must be 1 to 10 printable characters.")
        #expect(Self.refusal { _ = try Validation.name("   ", field: "name", maxLength: 10) } == refused)
        #expect(Self.refusal { _ = try Validation.name("Acme\u{85}", field: "name", maxLength: 10) } == refused)
        #expect(
            Self.refusal { _ = try Validation.name(String(repeating: "a", count: 11), field: "name", maxLength: 10) }
                == refused)
    }

    @Test func slugsTokensPasswordsAndZones() {
        #expect(Self.refusal { try Validation.slug("acme-1") } == nil)
        for slug in ["ab", "-acme", "acme-", "Acme", "ac_me"] {
            #expect(Self.refusal { try Validation.slug(slug) } != nil, "\(slug)")
        }
        #expect(Self.refusal { try Validation.token("abc-_09", field: "token") } == nil)
        #expect(
            Self.refusal { try Validation.token("a+b", field: "token") }
                == .invalid("token must be 1 to 128 letters, digits, '-' or '_'."))
        #expect(
            Self.refusal { try Validation.password("short", field: "password") }
                == .invalid("password must be at least 12 characters."))
        #expect(Self.refusal { try Validation.timezone("Europe/Berlin") } == nil)
        #expect(Self.refusal { try Validation.timezone("Europe/Nowhere") } != nil)
    }
}
