import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

extension AccountsHandler {
    /// Rotates a session's refresh token. Counted like sign-in attempts per address. The session row is
    /// locked while it is decided, so the same token presented twice at once is one rotation and one reuse;
    /// a reuse ends the session (and is audited) in a transaction that commits before the 401.
    func refreshSession(_ input: Operations.RefreshSession.Input) async throws -> Operations.RefreshSession.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let refused = APIError.unauthenticated("The refresh token is unknown, used, or its session has ended.")
        guard let token = try await presented(request.refreshToken, from: scope) else {
            metrics?.refresh(outcome: "refused")
            throw refused
        }
        let now = clock.now()
        let outcome = try await database.withTenant(token.tenantID) { transaction -> RefreshOutcome in
            guard let tenant = try await tenants.find(in: transaction) else { return .refused }
            switch try await sessions.refresh(token, policy: sessionPolicy, now: now, in: transaction) {
            case .rotated(let session, let next):
                metrics?.refresh(outcome: "rotated")
                guard tenant.status == .active else { throw APIError.tenantSuspended }
                guard let user = try await users.find(session.userID, in: transaction) else { return .refused }
                return .rotated(session, next, user)
            case .reused(let session):
                metrics?.refresh(outcome: "reused")
                try await audit.record(
                    AuditLog.Entry(
                        actorType: .user, actorID: session.userID.text, action: "session.reuse_detected",
                        targetType: "session", targetID: session.id.text, requestID: scope.requestID,
                        clientAddress: scope.clientAddress,
                        details: ["generation": String(token.generation), "current": String(session.generation)]),
                    in: transaction)
                return .ended(session.id)
            case .refused:
                metrics?.refresh(outcome: "refused")
                return .refused
            }
        }
        switch outcome {
        case .rotated(let session, let next, let user):
            return .ok(.init(body: .json(try await accessToken(for: user, session: session, refresh: next, now: now))))
        case .ended(let sessionID):
            // Other replicas hear of the end on the invalidation channel; this one stops the session's
            // access tokens before it answers.
            credentials.invalidate(credential: sessionID)
            throw refused
        case .refused:
            throw refused
        }
    }

    /// Ends the session a refresh token belongs to; its access tokens stop on every replica within a
    /// second (the end is announced on the invalidation channel when the transaction commits).
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let refused = APIError.unauthenticated("The refresh token is unknown.")
        guard let token = try await presented(request.refreshToken, from: scope) else { throw refused }
        let now = clock.now()
        let ended = try await database.withTenant(token.tenantID) { transaction -> UUID? in
            guard let (session, endedNow) = try await sessions.logout(token, now: now, in: transaction) else {
                return nil
            }
            if endedNow {
                try await audit.record(
                    AuditLog.Entry(
                        actorType: .user, actorID: session.userID.text, action: "user.logout", targetType: "session",
                        targetID: session.id.text, requestID: scope.requestID, clientAddress: scope.clientAddress),
                    in: transaction)
            }
            return session.id
        }
        guard let ended else { throw refused }
        credentials.invalidate(credential: ended)
        return .noContent(.init())
    }

    /// What a refresh decided, once its transaction has committed.
    private enum RefreshOutcome: Sendable {
        case rotated(SessionRecord, RefreshToken, UserRecord)
        /// An old token came back: the session with this id has ended.
        case ended(UUID)
        case refused
    }

    /// A refresh token as a client presents it: checked against the schema (400), counted against the
    /// address's sign-in limit (429), then read; nil when it is not one this server could have issued.
    private func presented(_ text: String, from scope: RequestScope) async throws -> RefreshToken? {
        try Validation.token(text, field: "refresh_token")
        try await throttleAttempt(from: scope.clientAddress)
        return RefreshToken(parsing: text)
    }

    /// Counts one attempt of `address` against the sign-in limit; throws 429 past it.
    func throttleAttempt(from address: String) async throws {
        try await count(throttles.loginPerAddress, address, detail: "Too many attempts; try again later.")
    }

    /// Counts one hit of `subject` on `throttle`; throws 429 with `detail` past its limit, from memory
    /// (without a transaction) once this replica has seen it refused.
    func count(_ throttle: FixedWindowThrottle, _ subject: String, detail: String) async throws {
        try Throttles.refuseRemembered([(throttle, subject)], detail: detail)
        let decision = try await database.transaction(.platform) { try await throttle.hit(subject, on: $0) }
        if case .limited(let retryAfter) = decision {
            throw APIError.rateLimited(retryAfter: retryAfter, detail: detail)
        }
    }
}
