import Foundation
import Persistence
import Tenancy

/// Invitations made and revoked by a tenant's people: no one invites a role above their own or an email
/// that has an account; one email has at most one open invitation (two made at the same moment: the second
/// is refused); the invitation is announced (the tenant's notification carries its token) and audited in
/// the transaction that makes it; only a pending invitation can be revoked.
public struct InvitationIssuance: Sendable {
    /// Announces a made invitation, with its token, in the transaction that makes it.
    public typealias Announce = @Sendable (InvitationRecord, InvitationToken, TenantTransaction) async throws -> Void

    let database: Database
    let membership: Membership
    let lifetime: Duration
    let announce: Announce
    let invitations = InvitationRepository()
    let audit = AuditLog()

    public init(database: Database, membership: Membership, lifetime: Duration, announce: @escaping Announce) {
        self.database = database
        self.membership = membership
        self.lifetime = lifetime
        self.announce = announce
    }

    /// Runs `body` in one transaction of `tenantID`, in which `invite` may be called (an idempotent creation
    /// wraps it there); a second open invitation of one email made at this moment is refused here.
    public func transaction<Result: Sendable>(
        of tenantID: TenantID, _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await database.withTenant(tenantID, body)
        } catch {
            guard UniqueViolation(error)?.constraint == "invitations_open_email_key" else { throw error }
            throw Refusal.conflict("Another invitation to this email was made at the same moment.")
        }
    }

    /// Invites `email` (an address `Validation.email` let through, trimmed here) as `role`, lasting the deployment's invitation lifetime from
    /// `now`; answers the invitation and its token, which is shown once.
    public func invite(
        email: String, role: Role, by principal: Principal, now: Date, recordedAs caller: AuditLog.Caller,
        in transaction: TenantTransaction
    ) async throws -> (invitation: InvitationRecord, token: InvitationToken) {
        let email = email.trimmingCharacters(in: .whitespaces)
        try await membership.checkInvitation(email: email, role: role, by: principal, in: transaction)
        let token = InvitationToken.generate(tenantID: transaction.tenantID, invitationID: UUID())
        let invitation = try await invitations.create(
            email: email, role: role, invitedBy: principal.creator, token: token, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(lifetime.components.seconds)), in: transaction)
        try await announce(invitation, token, transaction)
        try await audit.record(
            caller.entry(
                "user.invite", targetType: "invitation", targetID: invitation.id.text,
                details: ["email": email, "role": role.rawValue]), in: transaction)
        return (invitation, token)
    }

    /// Revokes a pending invitation of `tenantID`.
    public func revoke(_ id: UUID, tenantID: TenantID, recordedAs caller: AuditLog.Caller) async throws {
        let now = Date()
        try await database.withTenant(tenantID) { transaction in
            guard let outcome = try await invitations.revoke(id, at: now, in: transaction) else {
                throw Refusal.notFound("invitation")
            }
            guard outcome.revoked else {
                throw Refusal.conflict("This invitation is \(outcome.invitation.status(at: now).rawValue).")
            }
            try await audit.record(
                caller.entry(
                    "user.invitation_revoke", targetType: "invitation", targetID: id.text,
                    details: ["email": outcome.invitation.email]), in: transaction)
        }
    }
}
