import Foundation

/// Input rules shared by the handlers; each failure names the field and the rule, never the value.
enum Validation {
    static func slug(_ slug: String) throws {
        let allowed = slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard (3...40).contains(slug.count), allowed, slug.first != "-", slug.last != "-" else {
            throw APIError.invalid(
                "slug must be 3 to 40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.")
        }
    }

    static func email(_ email: String, field: String) throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            email.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x21 })
        else { throw APIError.invalid("\(field) must be an email address.") }
    }

    static func password(_ password: String, field: String) throws {
        // Counted in Unicode code points, as JSON Schema's minLength and maxLength count.
        let length = password.unicodeScalars.count
        guard length >= 12 else { throw APIError.invalid("\(field) must be at least 12 characters.") }
        guard length <= 1024 else { throw APIError.invalid("\(field) must be at most 1024 characters.") }
    }

    static func name(_ name: String, field: String, maxLength: Int) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maxLength,
            trimmed.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl })
        else { throw APIError.invalid("\(field) must be 1 to \(maxLength) printable characters.") }
        return trimmed
    }

    /// A login email is checked only for what could break storage or lookups (length, control
    /// characters); whether it names an account is the password check's business.
    static func loginEmail(_ email: String) throws {
        guard email.utf8.count <= 254, email.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl })
        else { throw APIError.invalid("email must be at most 254 bytes without control characters.") }
    }

    static func timezone(_ identifier: String) throws {
        let plain = identifier.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }
        guard plain, identifier.utf8.count <= 64, TimeZone(identifier: identifier) != nil else {
            throw APIError.invalid("timezone must be an IANA time zone such as Europe/Berlin.")
        }
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isControl: Bool {
        self == .control || self == .format || self == .lineSeparator || self == .paragraphSeparator
    }
}
