import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Notifications
import Persistence
import Tenancy

/// The tenant's people over HTTP: invitations, role changes and removal. The rules are `Membership`'s and
/// `InvitationIssuance`'s.
struct MembersHandler: Sendable {
    let database: Database
    let paging: Paging
    let idempotency: IdempotentCreation
    let membership: Membership
    /// The rules of making and revoking invitations.
    let issuance: InvitationIssuance
    let invitations = InvitationRepository()

    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws
        -> Operations.CreateInvitation.Output
    {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.email(request.email, field: "email")
        let role: Role = request.role.flatMap { Role(rawValue: $0.rawValue) } ?? .member
        let claim = try idempotency.claim(
            key: input.headers.idempotencyKey, operation: "createInvitation", request: request)
        let caller = try scope.auditCaller()
        let now = Date()
        let created = try await issuance.transaction(of: tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedInvitation) in
                    guard let id = UUID(uuidString: stored.id) else { return false }
                    return try await invitations.find(id, in: transaction)?.status(at: Date()) == .pending
                }
            ) {
                let (invitation, token) = try await issuance.invite(
                    email: request.email, role: role, by: principal, now: now, recordedAs: caller, in: transaction)
                return Components.Schemas.CreatedInvitation(invitation, token: token.text, now: now)
            }
        }
        return .created(.init(body: .json(created)))
    }

    func listInvitations(_ input: Operations.ListInvitations.Input) async throws
        -> Operations.ListInvitations.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let status = input.query.status.flatMap { InvitationRecord.Status(rawValue: $0.rawValue) }
        let list = "invitations:\(tenantID):\(status?.rawValue ?? "")"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await invitations.list(status: status, limit: limit, after: cursor, in: transaction)
        }
        let now = Date()
        return .ok(
            .init(body: .json(.init(items: page.items.map { .init($0, now: now) }, nextCursor: page.nextCursor))))
    }

    func revokeInvitation(_ input: Operations.RevokeInvitation.Input) async throws
        -> Operations.RevokeInvitation.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let id = UUID(uuidString: input.path.invitationId) else { throw APIError.notFound("invitation") }
        try await issuance.revoke(id, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .noContent(.init())
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let userID = UUID(uuidString: input.path.userId) else { throw APIError.notFound("user") }
        guard case .json(let change) = input.body, let role = Role(rawValue: change.role.rawValue) else {
            throw APIError.invalid("Send application/json with a role.")
        }
        let updated = try await membership.changeRole(
            of: userID, to: role, by: principal, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let userID = UUID(uuidString: input.path.userId) else { throw APIError.notFound("user") }
        let disposal: Membership.KeyDisposal
        if let named = input.query.transferTo {
            guard input.query.keys == .transfer else { throw APIError.invalid("transfer_to goes with keys=transfer.") }
            guard let id = UUID(uuidString: named) else { throw APIError.invalid("transfer_to must be a user id.") }
            disposal = .transfer(to: id)
        } else {
            disposal = input.query.keys == .transfer ? .transfer(to: nil) : .revoke
        }
        let removal = try await membership.remove(
            userID, keys: disposal, by: principal, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(
            .init(
                body: .json(
                    .init(
                        id: userID.text, email: removal.user.email, keys: removal.heir == nil ? .revoked : .transferred,
                        keyCount: removal.keyCount, transferredTo: removal.heir?.text))))
    }
}
