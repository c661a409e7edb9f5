import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Runtime
import Tenancy

/// The tenant's directory of people, which maps commit authors to chat handles: read it page by page,
/// or write thousands of people in one call (a directory sync), all or nothing.
struct IdentitiesHandler: Sendable {
    let database: Database
    let paging: Paging
    let identities = IdentityStore()
    let audit = AuditLog()
    static let maxItems = 10_000
    static let maxGitEmails = 20

    func listIdentities(_ input: Operations.ListIdentities.Input) async throws -> Operations.ListIdentities.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let email = input.query.email
        if let email {
            let scalars = email.unicodeScalars
            guard (1...254).contains(scalars.count),
                !scalars.contains(where: { $0.value <= 0x20 || Validation.isControl($0) })
            else { throw APIError.invalid("email must be 1 to 254 characters without spaces or control characters.") }
        }
        let list = "identities:\(tenantID):\(email?.lowercased() ?? "")"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await identities.list(email: email, limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func putIdentities(_ input: Operations.PutIdentities.Input) async throws -> Operations.PutIdentities.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the identities as JSON.") }
        let people = try Self.validated(body.items)
        let deleteMissing = body.deleteMissing ?? false
        let entry = try scope.auditEntry("identities.put", targetType: "identities", targetID: "\(people.count)")
        let written = try await database.withTenant(tenantID) { transaction in
            let written = try await identities.put(people, deleteMissing: deleteMissing, in: transaction)
            try await audit.record(entry, in: transaction)
            return written
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        created: written.created, updated: written.updated, unchanged: written.unchanged,
                        deleted: written.deleted, total: written.total))))
    }

    /// Checks every item as `openapi.yaml` states, lowercases the emails, drops repeated git emails, and
    /// refuses an email named twice (the call would not say which of the two to keep).
    static func validated(_ items: [Components.Schemas.Identity]) throws -> [Identity] {
        guard items.count <= maxItems else {
            throw APIError.invalid("items may hold at most \(maxItems) identities; send a larger directory in parts.")
        }
        var seen = Set<String>()
        var people: [Identity] = []
        people.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let field = "items[\(index)]"
            try Validation.email(item.email, field: "\(field).email")
            let email = item.email.lowercased()
            guard seen.insert(email).inserted else {
                throw APIError.invalid("\(field).email names a person an earlier item already names.")
            }
            let gitEmails = item.gitEmails ?? []
            guard gitEmails.count <= maxGitEmails else {
                throw APIError.invalid("\(field).git_emails may list at most \(maxGitEmails) addresses.")
            }
            var addresses: [String] = []
            for (position, address) in gitEmails.enumerated() {
                try Validation.email(address, field: "\(field).git_emails[\(position)]")
                let lowered = address.lowercased()
                if !addresses.contains(lowered) { addresses.append(lowered) }
            }
            if let handle = item.chatHandle {
                guard (1...100).contains(handle.unicodeScalars.count),
                    handle.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
                else { throw APIError.invalid("\(field).chat_handle must be 1 to 100 visible ASCII characters.") }
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

extension Components.Schemas.Identity {
    init(_ identity: Identity) {
        self.init(
            email: identity.email, gitEmails: identity.gitEmails, chatHandle: identity.chatHandle,
            managerEmail: identity.managerEmail, timezone: identity.timezone, updatedAt: identity.updatedAt)
    }
}
