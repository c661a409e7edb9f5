import Foundation

/// Input rules shared by the handlers and services, each the exact rule `openapi.yaml` states for the field (lengths
/// in Unicode code points, as JSON Schema counts them). Each failure names the field and the rule,
/// never the value; a failure is `Refusal.invalid`.
public enum Validation {
    /// C0 and C1 control characters and DEL, which no text field takes.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    public static func slug(_ slug: String) throws {
        let scalars = slug.unicodeScalars
        let allowed = scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard (3...40).contains(scalars.count), allowed, scalars.first != "-", scalars.last != "-" else {
            throw Refusal.invalid(
                "slug must be 3 to 40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.")
        }
    }

    /// `local@domain`: local part 1 to 64 characters, a domain with a dot inside it, at most 254
    /// characters in all, no whitespace or control characters anywhere.
    public static func email(_ email: String, field: String) throws {
        let scalars = Array(email.unicodeScalars)
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        let plain = scalars.allSatisfy { $0.value > 0x20 && !isControl($0) && !$0.properties.isWhitespace }
        guard plain, scalars.count <= 254, parts.count == 2, (1...64).contains(parts[0].count),
            parts[1].count >= 3, parts[1].contains("."), parts[1].first != ".", parts[1].last != "."
        else { throw Refusal.invalid("\(field) must be an email address.") }
    }

    /// A login email is checked only for what could break storage or lookups (length, control
    /// characters); whether it names an account is the password check's business.
    public static func loginEmail(_ email: String) throws {
        let scalars = email.unicodeScalars
        guard (1...254).contains(scalars.count), !scalars.contains(where: isControl) else {
            throw Refusal.invalid("email must be 1 to 254 characters without control characters.")
        }
    }

    public static func password(_ password: String, field: String, minimum: Int = 12) throws {
        let length = password.unicodeScalars.count
        guard length >= minimum else { throw Refusal.invalid("\(field) must be at least \(minimum) characters.") }
        guard length <= 1024 else { throw Refusal.invalid("\(field) must be at most 1024 characters.") }
    }

    /// A token a client hands back (refresh, invitation): 1 to 128 base64url characters, as the schema says.
    public static func token(_ token: String, field: String) throws {
        let allowed = token.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
        }
        guard (1...128).contains(token.unicodeScalars.count), allowed else {
            throw Refusal.invalid("\(field) must be 1 to 128 letters, digits, '-' or '_'.")
        }
    }

    /// 1 to `maxLength` characters, not all whitespace, no control characters; returned trimmed.
    public static func name(_ name: String, field: String, maxLength: Int) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.unicodeScalars.count <= maxLength, !trimmed.isEmpty, !name.unicodeScalars.contains(where: isControl)
        else { throw Refusal.invalid("\(field) must be 1 to \(maxLength) printable characters.") }
        return trimmed
    }

    /// An IANA time zone name (visible ASCII, at most 64 characters) this server knows.
    public static func timezone(_ identifier: String) throws {
        let plain = identifier.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        guard plain, (1...64).contains(identifier.utf8.count), TimeZone(identifier: identifier) != nil else {
            throw Refusal.invalid("timezone must be an IANA time zone such as Europe/Berlin.")
        }
    }
}
