import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Foundation
import Notifications
import Persistence
import PostgresNIO
import Tenancy

/// The tenant's people: invitations, role changes and removal. No one grants a role above their own or
/// acts on someone above them; an API key acts as an `admin` (it never transfers ownership); a tenant
/// always has exactly one owner (also enforced by the database when each transaction commits).
struct MembersHandler: Sendable {
    let database: Database
    let paging: Paging
    let idempotency: IdempotentCreation
    let notifications: NotificationStore
    let invitationLifetime: Duration
    /// This replica's cached credential states, dropped for the tenant once a member change commits.
    let credentials: CredentialStateCache
    let users = UserRepository()
    let invitations = InvitationRepository()
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    func createInvitation(_ input: Operations.CreateInvitation.Input) async throws
        -> Operations.CreateInvitation.Output
    {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.email(request.email, field: "email")
        let email = request.email.trimmingCharacters(in: .whitespaces)
        let role: Role = request.role.flatMap { Role(rawValue: $0.rawValue) } ?? .member
        let claim = try idempotency.claim(
            key: input.headers.idempotencyKey, operation: "createInvitation", request: request)
        let now = Date()
        let token = InvitationToken.generate(tenantID: tenantID, invitationID: UUID())
        let entry = try scope.auditEntry(
            "user.invite", targetType: "invitation", targetID: token.invitationID.uuidString.lowercased(),
            details: ["email": email, "role": role.rawValue])

        let created: Components.Schemas.CreatedInvitation
        do {
            created = try await invite(
                email: email, role: role, token: token, claim: claim, principal: principal, entry: entry, now: now,
                tenantID: tenantID)
        } catch {
            // Two invitations of one email at the same moment: the second meets the first's open one.
            guard UniqueViolation(error)?.constraint == "invitations_open_email_key" else { throw error }
            throw APIError.conflict("Another invitation to this email was made at the same moment.")
        }
        return .created(.init(body: .json(created)))
    }

    private func invite(
        email: String, role: Role, token: InvitationToken, claim: IdempotentCreation.Claim?, principal: Principal,
        entry: AuditLog.Entry, now: Date, tenantID: TenantID
    ) async throws -> Components.Schemas.CreatedInvitation {
        try await database.withTenant(tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedInvitation) in
                    guard let id = UUID(uuidString: stored.id) else { return false }
                    return try await invitations.find(id, in: transaction)?.status(at: Date()) == .pending
                }
            ) {
                let rank = try await callerRole(principal, in: transaction)
                guard role <= rank else { throw APIError.forbidden("No one invites a role above their own.") }
                guard try await !users.emailTaken(email, on: transaction.connection) else {
                    throw APIError.conflict("This email already belongs to an account.")
                }
                let invitation = try await invitations.create(
                    email: email, role: role, invitedBy: principal.creator, token: token, createdAt: now,
                    expiresAt: now.addingTimeInterval(TimeInterval(invitationLifetime.components.seconds)),
                    in: transaction)
                try await notifications.emit(
                    .invitationCreated, data: try Self.eventData(invitation),
                    secret: (field: "token", value: token.text), in: transaction)
                try await audit.record(entry, in: transaction)
                return Components.Schemas.CreatedInvitation(invitation, token: token.text, now: now)
            }
        }
    }

    func listInvitations(_ input: Operations.ListInvitations.Input) async throws
        -> Operations.ListInvitations.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let status = input.query.status.flatMap { InvitationRecord.Status(rawValue: $0.rawValue) }
        let list = "invitations:\(tenantID):\(status?.rawValue ?? "")"
        let (limit, cursor) = try paging.request(limit: input.query.limit, cursor: input.query.cursor, list: list)
        let page = try await database.withTenant(tenantID) {
            try await invitations.list(status: status, limit: limit, after: cursor, in: $0)
        }
        let now = Date()
        return .ok(
            .init(
                body: .json(
                    .init(items: page.items.map { .init($0, now: now) }, nextCursor: paging.next(page, list: list)))))
    }

    func revokeInvitation(_ input: Operations.RevokeInvitation.Input) async throws
        -> Operations.RevokeInvitation.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let id = UUID(uuidString: input.path.invitationId) else { throw APIError.notFound("invitation") }
        let entry = try scope.auditEntry("user.invitation_revoke", targetType: "invitation", targetID: id.text)
        try await database.withTenant(tenantID) { transaction in
            guard let outcome = try await invitations.revoke(id, at: Date(), in: transaction) else {
                throw APIError.notFound("invitation")
            }
            guard outcome.revoked else {
                throw APIError.conflict("This invitation is \(outcome.invitation.status(at: Date()).rawValue).")
            }
            try await audit.record(entry.with(details: ["email": outcome.invitation.email]), in: transaction)
        }
        return .noContent(.init())
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let userID = UUID(uuidString: input.path.userId) else { throw APIError.notFound("user") }
        guard case .json(let change) = input.body, let role = Role(rawValue: change.role.rawValue) else {
            throw APIError.invalid("Send application/json with a role.")
        }
        let updated = try await changingMembers(tenantID) { transaction -> UserRecord in
            let rank = try await callerRole(principal, in: transaction)
            guard let target = try await users.find(userID, locking: true, in: transaction) else {
                throw APIError.notFound("user")
            }
            guard target.role != role else { return target }
            if role == .owner {
                return try await transferOwnership(to: target, by: principal, scope: scope, in: transaction)
            }
            if target.role == .owner {
                guard rank == .owner else { throw APIError.forbidden("No one changes the role of someone above them.") }
                throw APIError.conflict(
                    "An organisation always has one owner: make someone else owner to hand ownership on.")
            }
            guard target.role <= rank else {
                throw APIError.forbidden("No one changes the role of someone above them.")
            }
            guard role <= rank else { throw APIError.forbidden("No one grants a role above their own.") }
            try await users.setRole(userID, to: role, in: transaction)
            // A lowered role takes its scopes from the keys the member made too: those holding more go.
            let revoked =
                role < target.role
                ? try await keys.revokeAll(
                    ownedBy: userID, exceeding: role.scopes, at: Date(), in: transaction) : 0
            try await audit.record(
                try scope.auditEntry(
                    "user.role_change", targetType: "user", targetID: userID.uuidString.lowercased(),
                    details: ["from": target.role.rawValue, "to": role.rawValue, "keys_revoked": String(revoked)]),
                in: transaction)
            return target.with(role: role)
        }
        return .ok(.init(body: .json(.init(updated))))
    }

    /// Makes `target` the owner and the calling owner an admin, in the transaction that holds both rows.
    private func transferOwnership(
        to target: UserRecord, by principal: Principal, scope: RequestScope, in transaction: TenantTransaction
    ) async throws -> UserRecord {
        guard case .user(let callerID) = principal.actor else {
            throw APIError.forbidden("Only the owner, signed in, hands ownership on.")
        }
        // Conditional on the caller still being the owner when its row is ours: of two transfers at once,
        // the second finds an admin here.
        guard try await users.demoteOwner(callerID, in: transaction) else {
            throw APIError.forbidden("Only the owner, signed in, hands ownership on.")
        }
        try await users.setRole(target.id, to: .owner, in: transaction)
        try await audit.record(
            try scope.auditEntry(
                "user.ownership_transfer", targetType: "user", targetID: target.id.uuidString.lowercased(),
                details: ["from": target.role.rawValue, "to": Role.owner.rawValue, "previous_owner": callerID.text]),
            in: transaction)
        return target.with(role: .owner)
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let userID = UUID(uuidString: input.path.userId) else { throw APIError.notFound("user") }
        let transfer = input.query.keys == .transfer
        var heirID: UUID?
        if let named = input.query.transferTo {
            guard transfer else { throw APIError.invalid("transfer_to goes with keys=transfer.") }
            guard let id = UUID(uuidString: named) else { throw APIError.invalid("transfer_to must be a user id.") }
            heirID = id
        } else if transfer {
            guard case .user(let callerID) = principal.actor else {
                throw APIError.invalid("keys=transfer needs transfer_to when the caller is an API key.")
            }
            heirID = callerID
        }
        let now = Date()
        let removal = try await changingMembers(tenantID) {
            transaction -> Components.Schemas.UserRemoval in
            let rank = try await callerRole(principal, in: transaction)
            guard let target = try await users.find(userID, locking: true, in: transaction) else {
                throw APIError.notFound("user")
            }
            if target.role == .owner {
                guard rank == .owner else { throw APIError.forbidden("No one removes someone above them.") }
                throw APIError.conflict("The owner cannot be removed: make someone else owner first.")
            }
            guard target.role <= rank else { throw APIError.forbidden("No one removes someone above them.") }
            if case .user(let callerID) = principal.actor, callerID == userID {
                throw APIError.conflict("No one removes themselves: another admin or the owner does.")
            }
            var count: Int
            if let heirID {
                guard heirID != userID, try await users.find(heirID, in: transaction) != nil else {
                    throw APIError.invalid("transfer_to must name another member of this organisation.")
                }
                count = try await keys.transferAll(ownedBy: userID, to: heirID, at: now, in: transaction)
            } else {
                count = try await keys.revokeAll(ownedBy: userID, at: now, in: transaction)
            }
            try await users.delete(userID, in: transaction)
            var details = [
                "email": target.email, "role": target.role.rawValue, "keys": transfer ? "transferred" : "revoked",
            ]
            details["key_count"] = String(count)
            if let heirID { details["transferred_to"] = heirID.text }
            try await audit.record(
                try scope.auditEntry("user.remove", targetType: "user", targetID: userID.text, details: details),
                in: transaction)
            return .init(
                id: userID.text, email: target.email, keys: transfer ? .transferred : .revoked, keyCount: count,
                transferredTo: heirID?.text)
        }
        return .ok(.init(body: .json(removal)))
    }

    /// A transaction that changes members: should two changes at once leave other than one owner, the
    /// database refuses the second at commit, and it answers 409. Once it commits, this replica's cached
    /// credentials of the tenant are dropped.
    private func changingMembers<Result: Sendable>(
        _ tenantID: TenantID, _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await database.withTenant(tenantID, body)
            // Other replicas hear of the change on the invalidation channel; this one applies it to the
            // tenant's credentials before it answers, so the caller's next request sees it.
            credentials.invalidate(tenant: tenantID)
            return result
        } catch let error as PSQLError
            where error.serverInfo?[.sqlState] == "23514" && error.serverInfo?[.constraintName] == "users_one_owner"
        {
            throw APIError.conflict("An organisation always has exactly one owner; another change came first.")
        }
    }

    /// The role the caller acts with, read in this transaction: a user's role as it is now; an API key's
    /// its owner's, and never above `admin`.
    private func callerRole(_ principal: Principal, in transaction: TenantTransaction) async throws -> Role {
        if principal.isOperator { throw APIError.forbidden("Operators do not manage an organisation's members.") }
        guard let owner = principal.owner, let person = try await users.find(owner, in: transaction) else {
            throw APIError.unauthenticated("This account no longer exists.")
        }
        if case .apiKey = principal.actor { return min(person.role, .admin) }
        return person.role
    }

    static func eventData(_ invitation: InvitationRecord) throws -> String {
        let object: [String: String] = [
            "invitation_id": invitation.id.text, "email": invitation.email, "role": invitation.role.rawValue,
            "invited_by": invitation.invitedBy,
            "expires_at": InternetDateTranscoder.format(invitation.expiresAt) ?? "",
        ]
        return String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
    }
}

extension UUID {
    /// The lowercased text the API and the audit log use.
    var text: String { uuidString.lowercased() }
}

extension UserRecord {
    func with(role: Role) -> UserRecord {
        UserRecord(
            id: id, tenantID: tenantID, email: email, role: role, passwordHash: passwordHash, createdAt: createdAt)
    }
}
