import Foundation
import Persistence
import PostgresNIO
import Tenancy

/// The rules of a tenant's people: no one grants a role above their own or acts on someone above them; an
/// API key acts as an `admin` at most (it never transfers ownership); a tenant always has exactly one owner
/// (the database also checks this when each transaction commits); a member whose role is lowered loses the
/// keys they made that hold more than the new role, and a member who is removed loses or hands on all of
/// them. Every change is audited in its own transaction, and this replica's cached credentials of the
/// tenant are dropped once it commits (other replicas hear of it on the invalidation channel).
public struct Membership: Sendable {
    let database: Database
    let credentials: CredentialStateCache
    let users = UserRepository()
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    public init(database: Database, credentials: CredentialStateCache) {
        self.database = database
        self.credentials = credentials
    }

    /// What becomes of the keys a removed member made.
    public enum KeyDisposal: Sendable, Equatable {
        case revoke
        /// Handed on to `heir`; nil names the caller (who must then be a person, not a key).
        case transfer(to: UUID?)
    }

    /// A member removed, and what became of their keys.
    public struct Removal: Sendable {
        public let user: UserRecord
        public let keyCount: Int
        /// Who received the keys; nil when they were revoked.
        public let heir: UUID?
    }

    /// Gives `userID` the role `role`. Naming `.owner` hands ownership on: only the owner, signed in, does
    /// that, and becomes an admin in the same transaction.
    public func changeRole(
        of userID: UUID, to role: Role, by principal: Principal, tenantID: TenantID, recordedAs caller: AuditLog.Caller
    ) async throws -> UserRecord {
        try await changingMembers(tenantID) { transaction in
            let rank = try await callerRole(principal, in: transaction)
            guard let target = try await users.find(userID, locking: true, in: transaction) else {
                throw Refusal.notFound("user")
            }
            guard target.role != role else { return target }
            if role == .owner {
                return try await transferOwnership(to: target, by: principal, caller: caller, in: transaction)
            }
            if target.role == .owner {
                guard rank == .owner else {
                    throw Refusal.forbidden("No one changes the role of someone above them.")
                }
                throw Refusal.conflict(
                    "An organisation always has one owner: make someone else owner to hand ownership on.")
            }
            guard target.role <= rank else {
                throw Refusal.forbidden("No one changes the role of someone above them.")
            }
            guard role <= rank else { throw Refusal.forbidden("No one grants a role above their own.") }
            try await users.setRole(userID, to: role, in: transaction)
            // A lowered role takes its scopes from the keys the member made too: those holding more go.
            let revoked =
                role < target.role
                ? try await keys.revokeAll(ownedBy: userID, exceeding: role.scopes, at: Date(), in: transaction) : 0
            try await audit.record(
                caller.entry(
                    "user.role_change", targetType: "user", targetID: userID.text,
                    details: ["from": target.role.rawValue, "to": role.rawValue, "keys_revoked": String(revoked)]),
                in: transaction)
            return target.with(role: role)
        }
    }

    /// Removes `userID` from the tenant; their keys are revoked or handed on as `keys` says.
    public func remove(
        _ userID: UUID, keys disposal: KeyDisposal, by principal: Principal, tenantID: TenantID,
        recordedAs caller: AuditLog.Caller, at now: Date = Date()
    ) async throws -> Removal {
        var heirID: UUID?
        if case .transfer(let named) = disposal {
            if let named {
                heirID = named
            } else if case .user(let callerID) = principal.actor {
                heirID = callerID
            } else {
                throw Refusal.invalid("keys=transfer needs transfer_to when the caller is an API key.")
            }
        }
        return try await changingMembers(tenantID) { transaction in
            let rank = try await callerRole(principal, in: transaction)
            guard let target = try await users.find(userID, locking: true, in: transaction) else {
                throw Refusal.notFound("user")
            }
            if target.role == .owner {
                guard rank == .owner else { throw Refusal.forbidden("No one removes someone above them.") }
                throw Refusal.conflict("The owner cannot be removed: make someone else owner first.")
            }
            guard target.role <= rank else { throw Refusal.forbidden("No one removes someone above them.") }
            if case .user(let callerID) = principal.actor, callerID == userID {
                throw Refusal.conflict("No one removes themselves: another admin or the owner does.")
            }
            let count: Int
            if let heirID {
                guard heirID != userID, try await users.find(heirID, in: transaction) != nil else {
                    throw Refusal.invalid("transfer_to must name another member of this organisation.")
                }
                count = try await keys.transferAll(ownedBy: userID, to: heirID, at: now, in: transaction)
            } else {
                count = try await keys.revokeAll(ownedBy: userID, at: now, in: transaction)
            }
            try await users.delete(userID, in: transaction)
            var details = [
                "email": target.email, "role": target.role.rawValue, "keys": heirID == nil ? "revoked" : "transferred",
            ]
            details["key_count"] = String(count)
            if let heirID { details["transferred_to"] = heirID.text }
            try await audit.record(
                caller.entry(
                    "user.remove", targetType: "user", targetID: userID.text, details: details),
                in: transaction)
            return Removal(user: target, keyCount: count, heir: heirID)
        }
    }

    /// Refuses an invitation the caller may not make: a role above the caller's own, or an email that
    /// already belongs to an account.
    public func checkInvitation(
        email: String, role: Role, by principal: Principal, in transaction: TenantTransaction
    ) async throws {
        guard role <= (try await callerRole(principal, in: transaction)) else {
            throw Refusal.forbidden("No one invites a role above their own.")
        }
        guard try await !users.emailTaken(email, on: transaction.connection) else {
            throw Refusal.conflict("This email already belongs to an account.")
        }
    }

    /// The role the caller acts with, read in this transaction: a user's role as it is now; an API key's
    /// its owner's, and never above `admin`.
    public func callerRole(_ principal: Principal, in transaction: TenantTransaction) async throws -> Role {
        if principal.isOperator {
            throw Refusal.forbidden("Operators do not manage an organisation's members.")
        }
        guard let owner = principal.owner, let person = try await users.find(owner, in: transaction) else {
            throw Refusal.unauthenticated("This account no longer exists.")
        }
        if case .apiKey = principal.actor { return min(person.role, .admin) }
        return person.role
    }

    /// Makes `target` the owner and the calling owner an admin, in the transaction that holds both rows.
    private func transferOwnership(
        to target: UserRecord, by principal: Principal, caller: AuditLog.Caller, in transaction: TenantTransaction
    ) async throws -> UserRecord {
        guard case .user(let callerID) = principal.actor else {
            throw Refusal.forbidden("Only the owner, signed in, hands ownership on.")
        }
        // Conditional on the caller still being the owner when its row is ours: of two transfers at once,
        // the second finds an admin here.
        guard try await users.demoteOwner(callerID, in: transaction) else {
            throw Refusal.forbidden("Only the owner, signed in, hands ownership on.")
        }
        try await users.setRole(target.id, to: .owner, in: transaction)
        try await audit.record(
            caller.entry(
                "user.ownership_transfer", targetType: "user", targetID: target.id.text,
                details: [
                    "from": target.role.rawValue, "to": Role.owner.rawValue,
                    "previous_owner": callerID.text,
                ]),
            in: transaction)
        return target.with(role: .owner)
    }

    /// A transaction that changes members: should two changes at once leave other than one owner, the
    /// database refuses the second at commit (a conflict). Once it commits, this replica's cached
    /// credentials of the tenant are dropped, so the caller's next request sees the change.
    private func changingMembers<Result: Sendable>(
        _ tenantID: TenantID, _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await database.withTenant(tenantID, body)
            credentials.invalidate(tenant: tenantID)
            return result
        } catch let error as PSQLError
            where error.serverInfo?[.sqlState] == "23514" && error.serverInfo?[.constraintName] == "users_one_owner"
        {
            throw Refusal.conflict("An organisation always has exactly one owner; another change came first.")
        }
    }
}

extension UserRecord {
    /// This record with another role.
    public func with(role: Role) -> UserRecord {
        UserRecord(
            id: id, tenantID: tenantID, email: email, role: role, passwordHash: passwordHash, createdAt: createdAt)
    }
}
