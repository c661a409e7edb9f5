import Foundation
import Persistence
import Tenancy

/// The tenant's directory of people, which maps commit authors to chat handles, written by its people in
/// one call (a directory sync), all or nothing and audited: at most 10,000 people, each with a valid email
/// named once, at most 20 further git emails (repeats dropped), a chat handle of 1 to 100 visible ASCII
/// characters, a manager's email and an IANA time zone. Emails are kept lowercased.
public struct IdentityDirectory: Sendable {
    let database: Database
    let store = IdentityStore()
    let audit = AuditLog()
    public static let maxItems = 10_000
    public static let maxGitEmails = 20

    public init(database: Database) {
        self.database = database
    }

    /// Writes `people` as given (`deleteMissing`: everyone not named is removed); answers what changed.
    public func put(
        _ people: [Identity], deleteMissing: Bool, tenantID: TenantID, recordedAs caller: AuditLog.Caller
    ) async throws -> IdentityWrite {
        let people = try Self.checked(people)
        return try await database.withTenant(tenantID) { transaction in
            let written = try await store.put(people, deleteMissing: deleteMissing, in: transaction)
            try await audit.record(
                caller.entry("identities.put", targetType: "identities", targetID: "\(people.count)"), in: transaction)
            return written
        }
    }

    /// An email a list is filtered by: 1 to 254 characters without spaces or control characters.
    public static func checkFilter(email: String) throws {
        let scalars = email.unicodeScalars
        guard (1...254).contains(scalars.count),
            !scalars.contains(where: { $0.value <= 0x20 || Validation.isControl($0) })
        else { throw Refusal.invalid("email must be 1 to 254 characters without spaces or control characters.") }
    }

    /// Every person checked as `openapi.yaml` states, emails lowercased, repeated git emails dropped; an
    /// email named twice is refused (the call would not say which of the two to keep).
    static func checked(_ items: [Identity]) throws -> [Identity] {
        guard items.count <= maxItems else {
            throw Refusal.invalid("items may hold at most \(maxItems) identities; send a larger directory in parts.")
        }
        var seen = Set<String>()
        var people: [Identity] = []
        people.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let field = "items[\(index)]"
            try Validation.email(item.email, field: "\(field).email")
            let email = item.email.lowercased()
            guard seen.insert(email).inserted else {
                throw Refusal.invalid("\(field).email names a person an earlier item already names.")
            }
            guard item.gitEmails.count <= maxGitEmails else {
                throw Refusal.invalid("\(field).git_emails may list at most \(maxGitEmails) addresses.")
            }
            var addresses: [String] = []
            for (position, address) in item.gitEmails.enumerated() {
                try Validation.email(address, field: "\(field).git_emails[\(position)]")
                let lowered = address.lowercased()
                if !addresses.contains(lowered) { addresses.append(lowered) }
            }
            if let handle = item.chatHandle {
                guard (1...100).contains(handle.unicodeScalars.count),
                    handle.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
                else { throw Refusal.invalid("\(field).chat_handle must be 1 to 100 visible ASCII characters.") }
            }
            if let manager = item.managerEmail { try Validation.email(manager, field: "\(field).manager_email") }
            if let zone = item.timezone { try Validation.timezone(zone) }
            people.append(
                Identity(
                    email: email, gitEmails: addresses, chatHandle: item.chatHandle,
                    managerEmail: item.managerEmail?.lowercased(), timezone: item.timezone))
        }
        return people
    }
}
