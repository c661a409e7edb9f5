import Foundation
import Persistence
import Tenancy

/// Signing in with GitHub (OAuth web flow with PKCE): a start records a one-time state with its sealed
/// verifier, bound to the browser that started it; the finish consumes that state (once, from that
/// browser, before it expires), exchanges the code with the verifier, and signs in the account whose email
/// is the GitHub account's primary one, and only when GitHub says it is verified. GitHub never makes an
/// account: people join by invitation.
package struct GitHubSignIn: Sendable {
    let database: Database
    let client: GitHubOAuthClient
    let states: OAuthStateStore
    let signIn: SignIn
    let clock: ServerClock
    let users = UserRepository()

    package init(
        database: Database, client: GitHubOAuthClient, states: OAuthStateStore, signIn: SignIn, clock: ServerClock
    ) {
        self.database = database
        self.client = client
        self.states = states
        self.signIn = signIn
        self.clock = clock
    }

    /// Where the browser goes, and the value that binds the sign-in to it, for `lifetime`.
    package struct Started: Sendable {
        package let authorizeURL: String
        package let browser: String
        package let lifetime: Duration
    }

    /// GitHub could not be reached or answered something unreadable: the sign-in may be tried again.
    package struct Unavailable: Error, Sendable {}

    package func start() async throws -> Started {
        let lifetime = client.settings.stateLifetime
        let started = try await database.transaction(.platform) { connection in
            try await states.start(lifetime: lifetime, now: clock.now(), on: connection)
        }
        return Started(
            authorizeURL: client.authorizeURL(state: started.state, codeChallenge: started.codeChallenge),
            browser: started.browser, lifetime: lifetime)
    }

    /// Finishes the sign-in `state` began, in the browser `browser` names, with GitHub's `code`.
    package func finish(code: String, state: String, browser: String, requestID: String?, clientAddress: String?)
        async throws -> SignedIn
    {
        let now = clock.now()
        let verifier = try await database.transaction(.platform) { connection in
            try await states.consume(state, browser: browser, now: now, on: connection)
        }
        guard let verifier else {
            throw Refusal.unauthenticated("This sign-in is unknown, used or expired; start again.")
        }
        let emails: [GitHubOAuthClient.Email]
        do {
            let token = try await client.exchange(code: code, verifier: verifier)
            emails = try await client.emails(token: token)
        } catch .refused(let reason) {
            throw Refusal.unauthenticated("GitHub refused the sign-in (\(reason)); start again.")
        } catch .unavailable {
            throw Unavailable()
        }
        guard let primary = emails.first(where: \.primary) else {
            throw Refusal.unauthenticated("Your GitHub account has no primary email.")
        }
        guard primary.verified else {
            throw Refusal.unauthenticated("Your GitHub account's primary email is not verified; verify it first.")
        }
        let user = try await database.transaction(.platform) { connection in
            try await users.findForLogin(email: primary.email, on: connection)
        }
        guard let user else {
            throw Refusal.unauthenticated(
                "No account has your GitHub primary email; ask your organisation for an invitation.")
        }
        return try await signIn.start(for: user, method: .github, requestID: requestID, clientAddress: clientAddress)
    }
}
