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

    /// The ways to sign in here.
    func signInMethods() -> Operations.GetSignInMethods.Output {
        .ok(.init(body: .json(.init(password: true, github: github != nil))))
    }

    /// Consumes the state, exchanges the code with its verifier, reads the account's primary email and,
    /// when GitHub says it is verified and an account has it, starts a session as login does. The browser
    /// itself arriving is sent on to the console, which makes this call and keeps the session.
    func finishGitHubSignIn(_ input: Operations.FinishGitHubSignIn.Input) async throws
        -> Operations.FinishGitHubSignIn.Output
    {
        guard let github else { throw Self.gitHubOff }
        if input.headers.secFetchMode == "navigate" {
            return .seeOther(.init(headers: .init(location: Self.consoleLocation(of: input.query))))
        }
        return try await measured(.github) { try await gitHubSignIn(input, github: github) }
    }

    /// The console's GitHub page with the callback's query, each value percent-encoded, in the fragment
    /// (never sent to a server, so not in any log).
    static func consoleLocation(of query: Operations.FinishGitHubSignIn.Input.Query) -> String {
        let pairs = [
            ("code", query.code), ("state", query.state), ("error", query.error),
            ("error_description", query.errorDescription),
        ]
        let encoded = pairs.compactMap { name, value in value.map { "\(name)=\(GitHubOAuthClient.formEncoded($0))" } }
        return "/console/#/github?" + encoded.joined(separator: "&")
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
        else { throw APIError.unauthenticated("There is no sign-in to finish here (no code and state); start again.") }
        guard let browser = Self.browserBinding(in: input.headers.cookie) else {
            throw APIError.unauthenticated("This browser did not start this sign-in; start again.")
        }
        let signedIn = try await github.finish(
            code: code, state: state, browser: browser, requestID: scope.requestID,
            clientAddress: scope.clientAddress)
        return .ok(.init(body: .json(try await accessToken(signedIn))))
    }
}
