import Foundation
import Persistence
import Tenancy

/// Turns an invitation into an account: the token names its tenant and invitation; a token that opens
/// nothing costs no hashing; the password is hashed before any transaction; then, in one transaction,
/// the invitation is locked and checked again (secret, still pending, tenant active), the user is made
/// with the invited role, the invitation marked used, the join audited and a session started. Every way a
/// token can fail is the same refusal.
public struct InvitationAcceptance: Sendable {
    let database: Database
    let hasher: PasswordHasher
    let sessions: SessionRepository
    let sessionPolicy: SessionPolicy
    let clock: ServerClock
    let invitations = InvitationRepository()
    let users = UserRepository()
    let tenants = TenantRepository()
    let audit = AuditLog()

    public init(
        database: Database, hasher: PasswordHasher, sessions: SessionRepository, sessionPolicy: SessionPolicy,
        clock: ServerClock
    ) {
        self.database = database
        self.hasher = hasher
        self.sessions = sessions
        self.sessionPolicy = sessionPolicy
        self.clock = clock
    }

    static let refused = Refusal.unauthenticated("The invitation is unknown, used, revoked or expired.")

    public func accept(token text: String, password: String, requestID: String?, clientAddress: String?)
        async throws -> SignedIn
    {
        guard let token = InvitationToken(parsing: text) else { throw Self.refused }
        let valid = try await database.withTenant(token.tenantID) {
            try await invitations.claim(token, at: clock.now(), in: $0) != nil
        }
        guard valid else { throw Self.refused }
        let passwordHash = try await hasher.hash(password)
        let now = clock.now()
        do {
            return try await database.withTenant(token.tenantID) { transaction in
                guard let invitation = try await invitations.claim(token, at: now, in: transaction) else {
                    throw Self.refused
                }
                guard let tenant = try await tenants.find(in: transaction), tenant.status == .active else {
                    throw AuthenticationError.tenantSuspended
                }
                let user = UserRecord(
                    id: UUID(), tenantID: token.tenantID, email: invitation.email, role: invitation.role,
                    passwordHash: passwordHash, createdAt: now)
                try await users.insert(user, in: transaction)
                try await invitations.markAccepted(invitation.id, by: user.id, at: now, in: transaction)
                try await audit.record(
                    AuditLog.Caller.user(user.id, requestID: requestID, clientAddress: clientAddress).entry(
                        "user.join", targetType: "user", targetID: user.id.text,
                        details: [
                            "invitation_id": invitation.id.text, "role": invitation.role.rawValue,
                            "invited_by": invitation.invitedBy,
                        ]), in: transaction)
                let (session, refresh) = try await sessions.start(
                    userID: user.id, method: .invitation, policy: sessionPolicy, clientAddress: clientAddress,
                    now: now, in: transaction)
                return SignedIn(user: user, session: session, refresh: refresh, now: now)
            }
        } catch {
            guard UniqueViolation(error)?.constraint == "login_directory_pkey" else { throw error }
            throw Refusal.conflict("This email has an account already.")
        }
    }
}
