import Foundation
import Persistence
import Tenancy

/// A session's life after sign-in: its refresh token rotated, or the session ended by logout.
///
/// The session row is locked while a token is decided, so the same token presented twice at once is one
/// rotation and one reuse. A reuse ends the session, audited, in a transaction that commits before the
/// caller hears of it; every end is announced on the invalidation channel as its transaction commits, and
/// this replica stops the session's access tokens before it answers.
public struct SessionRenewal: Sendable {
    let database: Database
    let sessions: SessionRepository
    let sessionPolicy: SessionPolicy
    let clock: ServerClock
    /// This replica's cached credential states.
    let credentials: CredentialStateCache
    let users = UserRepository()
    let tenants = TenantRepository()
    let audit = AuditLog()

    public init(
        database: Database, sessions: SessionRepository, sessionPolicy: SessionPolicy, clock: ServerClock,
        credentials: CredentialStateCache
    ) {
        self.database = database
        self.sessions = sessions
        self.sessionPolicy = sessionPolicy
        self.clock = clock
        self.credentials = credentials
    }

    /// What presenting a refresh token came to.
    public enum Refreshed: Sendable {
        /// The session goes on, with its next refresh token.
        case rotated(SignedIn)
        /// An older token came back: the session has ended.
        case reused
        /// Unknown, forged, ended or expired, or its user is gone.
        case refused
    }

    /// Rotates the refresh token of an active tenant's session.
    public func refresh(_ token: RefreshToken, requestID: String?, clientAddress: String?) async throws -> Refreshed {
        let now = clock.now()
        let outcome = try await database.withTenant(token.tenantID) { transaction -> Refreshed in
            guard let tenant = try await tenants.find(in: transaction) else { return .refused }
            switch try await sessions.refresh(token, policy: sessionPolicy, now: now, in: transaction) {
            case .rotated(let session, let next):
                guard tenant.status == .active else { throw AuthenticationError.tenantSuspended }
                guard let user = try await users.find(session.userID, in: transaction) else { return .refused }
                return .rotated(SignedIn(user: user, session: session, refresh: next, now: now))
            case .reused(let session):
                try await audit.record(
                    AuditLog.Caller.user(session.userID, requestID: requestID, clientAddress: clientAddress).entry(
                        "session.reuse_detected", targetType: "session", targetID: session.id.text,
                        details: ["generation": String(token.generation), "current": String(session.generation)]),
                    in: transaction)
                return .reused
            case .refused:
                return .refused
            }
        }
        if case .reused = outcome { credentials.invalidate(credential: token.sessionID) }
        return outcome
    }

    /// Ends the session `token` belongs to (ending an ended one changes nothing and is not audited again);
    /// false when the token is not one a session of its tenant issued.
    public func logout(_ token: RefreshToken, requestID: String?, clientAddress: String?) async throws -> Bool {
        let now = clock.now()
        let ended = try await database.withTenant(token.tenantID) { transaction -> UUID? in
            guard let (session, endedNow) = try await sessions.logout(token, now: now, in: transaction) else {
                return nil
            }
            if endedNow {
                try await audit.record(
                    AuditLog.Caller.user(session.userID, requestID: requestID, clientAddress: clientAddress).entry(
                        "user.logout", targetType: "session", targetID: session.id.text), in: transaction)
            }
            return session.id
        }
        guard let ended else { return false }
        credentials.invalidate(credential: ended)
        return true
    }
}
