import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation

extension AccountsHandler {
    static let gitHubOff = APIError(
        status: 404, code: .notFound, title: "Not found", detail: "Sign in with GitHub is not enabled here.")

    /// Records a one-time state with its sealed PKCE verifier and sends the browser to GitHub.
    func startGitHubSignIn(_ input: Operations.StartGitHubSignIn.Input) async throws
        -> Operations.StartGitHubSignIn.Output
    {
        guard let github else { throw Self.gitHubOff }
        try await throttleAttempt(from: RequestScope.now.clientAddress)
        let started = try await github.start()
        return .found(
            .init(
                headers: .init(
                    location: started.authorizeURL,
                    setCookie: "\(Self.browserCookie)=\(started.browser); Path=/v1/auth/github; "
                        + "Max-Age=\(started.lifetime.components.seconds); HttpOnly; Secure; SameSite=Lax")))
    }

    /// The cookie that binds a sign-in's state to the browser that started it.
    static let browserCookie = "cp_github_signin"

    /// The value of the browser cookie in a `Cookie` header, if there is one.
    static func browserBinding(in header: String?) -> String? {
        for pair in (header ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == browserCookie else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Consumes the state, exchanges the code with its verifier, reads the account's primary email and,
    /// when GitHub says it is verified and an account has it, starts a session as login does.
    func finishGitHubSignIn(_ input: Operations.FinishGitHubSignIn.Input) async throws
        -> Operations.FinishGitHubSignIn.Output
    {
        guard let github else { throw Self.gitHubOff }
        return try await measured(.github) { try await gitHubSignIn(input, github: github) }
    }

    private func gitHubSignIn(_ input: Operations.FinishGitHubSignIn.Input, github: GitHubSignIn) async throws
        -> Operations.FinishGitHubSignIn.Output
    {
        let scope = RequestScope.now
        try await throttleAttempt(from: scope.clientAddress)
        let query = input.query
        if let error = query.error {
            throw APIError.unauthenticated("GitHub did not sign you in (\(error.prefix(64))); start again.")
        }
        guard let code = query.code, let state = query.state, !code.isEmpty, !state.isEmpty,
            code.utf8.count <= 512, state.utf8.count <= 512
        else { throw APIError.invalid("code and state are required.") }
        guard let browser = Self.browserBinding(in: input.headers.cookie) else {
            throw APIError.unauthenticated("This browser did not start this sign-in; start again.")
        }
        let signedIn = try await github.finish(
            code: code, state: state, browser: browser, requestID: scope.requestID,
            clientAddress: scope.clientAddress)
        return .ok(.init(body: .json(try await accessToken(signedIn))))
    }
}
