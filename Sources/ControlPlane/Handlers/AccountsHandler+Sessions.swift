import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

extension AccountsHandler {
    /// Rotates a session's refresh token (`SessionRenewal`). Counted like sign-in attempts per address.
    func refreshSession(_ input: Operations.RefreshSession.Input) async throws -> Operations.RefreshSession.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let refused = APIError.unauthenticated("The refresh token is unknown, used, or its session has ended.")
        guard let token = try await presented(request.refreshToken, from: scope) else {
            metrics?.refresh(outcome: "refused")
            throw refused
        }
        switch try await renewal.refresh(token, requestID: scope.requestID, clientAddress: scope.clientAddress) {
        case .rotated(let signedIn):
            metrics?.refresh(outcome: "rotated")
            return .ok(.init(body: .json(try await accessToken(signedIn))))
        case .reused:
            metrics?.refresh(outcome: "reused")
            throw refused
        case .refused:
            metrics?.refresh(outcome: "refused")
            throw refused
        }
    }

    /// Ends the session a refresh token belongs to (`SessionRenewal`); its access tokens stop on every
    /// replica within a second.
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let refused = APIError.unauthenticated("The refresh token is unknown.")
        guard let token = try await presented(request.refreshToken, from: scope),
            try await renewal.logout(token, requestID: scope.requestID, clientAddress: scope.clientAddress)
        else { throw refused }
        return .noContent(.init())
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
        try await count(attemptsPerAddress, address, detail: "Too many attempts; try again later.")
    }

    /// Counts one hit of `subject` on `throttle`; throws 429 with `detail` past its limit, from memory
    /// (without a transaction) once this replica has seen it refused.
    func count(_ throttle: FixedWindowThrottle, _ subject: String, detail: String) async throws {
        if case .limited(let retryAfter) = try await throttle.count(subject, in: database) {
            throw APIError.rateLimited(retryAfter: retryAfter, detail: detail)
        }
    }
}
