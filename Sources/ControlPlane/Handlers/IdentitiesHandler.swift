import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Runtime
import Tenancy

/// The tenant's directory of people, which maps commit authors to chat handles: read it page by page,
/// or write thousands of people in one call (a directory sync), all or nothing, by `IdentityDirectory`'s
/// rules.
struct IdentitiesHandler: Sendable {
    let paging: Paging
    /// The rules of writing the directory.
    let directory: IdentityDirectory
    let identities = IdentityStore()

    func listIdentities(_ input: Operations.ListIdentities.Input) async throws -> Operations.ListIdentities.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let email = input.query.email
        if let email { try IdentityDirectory.checkFilter(email: email) }
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
        let people = body.items.map {
            Identity(
                email: $0.email, gitEmails: $0.gitEmails ?? [], chatHandle: $0.chatHandle,
                managerEmail: $0.managerEmail, timezone: $0.timezone)
        }
        let written = try await directory.put(
            people, deleteMissing: body.deleteMissing ?? false, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(
            .init(
                body: .json(
                    .init(
                        created: written.created, updated: written.updated, unchanged: written.unchanged,
                        deleted: written.deleted, total: written.total))))
    }
}

extension Components.Schemas.Identity {
    init(_ identity: Identity) {
        self.init(
            email: identity.email, gitEmails: identity.gitEmails, chatHandle: identity.chatHandle,
            managerEmail: identity.managerEmail, timezone: identity.timezone, updatedAt: identity.updatedAt)
    }
}
