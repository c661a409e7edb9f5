import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

extension AccountsHandler {
    /// Turns an invitation into an account: the token names its tenant and invitation, the password is
    /// hashed before any transaction, and in one transaction the invitation is locked, checked (secret,
    /// still pending, tenant active), the user created with the invited role and the invitation marked
    /// used. Every way a token can fail answers the same 401.
    func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws
        -> Operations.AcceptInvitation.Output
    {
        try await measured(.invitation) { try await join(input) }
    }

    private func join(_ input: Operations.AcceptInvitation.Input) async throws -> Operations.AcceptInvitation.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.token(request.token, field: "token")
        try Validation.password(request.password, field: "password")
        let refused = APIError.unauthenticated("The invitation is unknown, used, revoked or expired.")

        // Counted like sign-in attempts, before anything costly: a token is a credential.
        try await throttleAttempt(from: scope.clientAddress)
        guard let token = InvitationToken(parsing: request.token) else { throw refused }
        let invitations = InvitationRepository()
        // A token that opens nothing costs no hashing.
        let valid = try await database.withTenant(token.tenantID) {
            try await invitations.claim(token, at: clock.now(), in: $0) != nil
        }
        guard valid else { throw refused }
        let passwordHash = try await hasher.hash(request.password)
        let now = clock.now()

        let joined: (UserRecord, SessionRecord, RefreshToken)
        do {
            joined = try await database.withTenant(token.tenantID) { transaction in
                guard let invitation = try await invitations.claim(token, at: now, in: transaction) else {
                    throw refused
                }
                guard let tenant = try await tenants.find(in: transaction), tenant.status == .active else {
                    throw APIError.tenantSuspended
                }
                let user = UserRecord(
                    id: UUID(), tenantID: token.tenantID, email: invitation.email, role: invitation.role,
                    passwordHash: passwordHash, createdAt: now)
                try await users.insert(user, in: transaction)
                try await invitations.markAccepted(invitation.id, by: user.id, at: now, in: transaction)
                try await audit.record(
                    AuditLog.Entry(
                        actorType: .user, actorID: user.id.text, action: "user.join", targetType: "user",
                        targetID: user.id.text, requestID: scope.requestID, clientAddress: scope.clientAddress,
                        details: [
                            "invitation_id": invitation.id.text, "role": invitation.role.rawValue,
                            "invited_by": invitation.invitedBy,
                        ]), in: transaction)
                let (session, refresh) = try await sessions.start(
                    userID: user.id, method: .invitation, policy: sessionPolicy, clientAddress: scope.clientAddress,
                    now: now, in: transaction)
                return (user, session, refresh)
            }
        } catch {
            guard UniqueViolation(error)?.constraint == "login_directory_pkey" else { throw error }
            throw APIError.conflict("This email has an account already.")
        }
        let (user, session, refresh) = joined
        let answer = try await accessToken(for: user, session: session, refresh: refresh, now: now)
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: .init(
                            id: user.id.text, email: user.email, role: .init(rawValue: user.role.rawValue) ?? .member),
                        tenantId: token.tenantID.description, accessToken: answer.accessToken, tokenType: .bearer,
                        expiresIn: answer.expiresIn, refreshToken: answer.refreshToken,
                        refreshExpiresIn: answer.refreshExpiresIn))))
    }
}
