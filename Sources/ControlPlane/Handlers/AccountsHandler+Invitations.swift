import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

extension AccountsHandler {
    /// Turns an invitation into an account (`InvitationAcceptance`); every way a token can fail answers
    /// the same 401.
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

        // Counted like sign-in attempts, before anything costly: a token is a credential.
        try await throttleAttempt(from: scope.clientAddress)
        let joined = try await invitationAcceptance.accept(
            token: request.token, password: request.password, requestID: scope.requestID,
            clientAddress: scope.clientAddress)
        let user = joined.user
        let answer = try await accessToken(joined)
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: .init(
                            id: user.id.text, email: user.email, role: .init(rawValue: user.role.rawValue) ?? .member),
                        tenantId: user.tenantID.description, accessToken: answer.accessToken, tokenType: .bearer,
                        expiresIn: answer.expiresIn, refreshToken: answer.refreshToken,
                        refreshExpiresIn: answer.refreshExpiresIn))))
    }
}
