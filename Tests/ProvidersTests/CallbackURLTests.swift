import Providers
import Testing

/// The shape a tenant's callback URL must have before it is stored: http or https with a host, no
/// credentials, query or fragment, no local names or literal addresses of the platform's network (unless
/// the operator allowlists the host), at most 2048 visible ASCII characters; each refusal names the field.
@Suite struct CallbackURLTests {
    static let guarded = OutboundAddressGuard(allowlist: ["hooks.internal"])

    static func reason(_ url: String) -> String? {
        do {
            _ = try guarded.callbackURL(url, field: "url")
            return nil
        } catch {
            return (error as? AddressRefused)?.reason ?? "\(error)"
        }
    }

    @Test(arguments: [
        "https://user:pw@example.com/hook", "https://example.com/hook?x=1", "https://example.com/#f",
        "ftp://example.com",
        "not a url",
    ])
    func aURLOfTheWrongShapeIsRefused(url: String) {
        #expect(Self.reason(url) == "url must be an http or https URL with a host and no credentials")
    }

    @Test(arguments: ["http://localhost:8080/x", "https://svc.local/x", "https://metadata.internal/x"])
    func aLocalNameIsRefused(url: String) {
        #expect(Self.reason(url) == "url may not point at a local name")
    }

    @Test(arguments: ["http://127.0.0.1/x", "http://10.1.2.3/x", "http://169.254.169.254/x", "http://[::1]/x"])
    func anAddressOfThePlatformsNetworkIsRefused(url: String) {
        #expect(Self.reason(url) == "url may not point at a loopback, private or link-local address")
    }

    @Test func anAllowlistedHostAndAPublicOneAreKeptAsGiven() throws {
        #expect(try Self.guarded.callbackURL("https://hooks.internal/in", field: "url") == "https://hooks.internal/in")
        #expect(try Self.guarded.callbackURL("https://example.com/in", field: "url") == "https://example.com/in")
        #expect(
            Self.reason("https://example.com/" + String(repeating: "a", count: 2030))
                == "url must be at most 2048 visible ASCII characters")
    }
}
