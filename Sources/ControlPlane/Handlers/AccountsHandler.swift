import Auth
import Billing
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Observability
import Persistence
import Tenancy

/// Signup and login: the public routes that create tenants and hand out tokens. Both are throttled
/// before any expensive work: signup per client address, login per address, per email and across the
/// platform, all checked before a password is hashed.
struct AccountsHandler: Sendable {
    let database: Database
    let issuer: TokenIssuer
    let idempotency: IdempotentCreation
    /// Signups counted per client address.
    let signupsPerAddress: FixedWindowThrottle
    /// Every attempt with a credential (password, refresh token, invitation, GitHub) counted per client
    /// address; shared with `signIn`.
    let attemptsPerAddress: FixedWindowThrottle
    let accessTokenLifetime: Duration
    /// What a signup makes: the tenant, its owner, its first key and its spend limits.
    let signup: Signup
    /// What accepting an invitation makes: the account and its first session.
    let invitationAcceptance: InvitationAcceptance
    /// Password sign-in and the session every sign-in starts.
    let signIn: SignIn
    /// Refresh-token rotation and logout.
    let renewal: SessionRenewal
    /// Sign in with GitHub, when the deployment has an OAuth app.
    let github: GitHubSignIn?
    let metrics: SignInMetrics?

    func signup(_ input: Operations.Signup.Input) async throws -> Operations.Signup.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let name = try Validation.name(request.organizationName, field: "organization_name", maxLength: 200)
        try Validation.slug(request.slug)
        try Validation.email(request.adminEmail, field: "admin_email")
        try Validation.password(request.adminPassword, field: "admin_password")
        let timezone = request.timezone ?? "UTC"
        try Validation.timezone(timezone)
        let claim = try idempotency.claim(key: input.headers.idempotencyKey, operation: "signup", request: request)

        try await count(signupsPerAddress, scope.clientAddress, detail: "Too many signups from this address.")
        let now = Date()

        let organisation = try await signup.prepare(
            name: name, slug: request.slug, email: request.adminEmail, password: request.adminPassword,
            timezone: timezone)
        let signer = try await issuer.signer()
        let result = try await database.withTenant(organisation.tenant.id) { transaction in
            try await idempotency.run(claim, namespace: .signup, in: transaction) {
                try await signup.create(
                    organisation, requestID: scope.requestID, clientAddress: scope.clientAddress, in: transaction)
                return Components.Schemas.SignupResult(
                    tenant: .init(organisation.tenant),
                    user: .init(id: organisation.owner.id.text, email: organisation.owner.email, role: .owner),
                    apiKey: .init(organisation.key, token: try signer.apiKeyToken(for: organisation.key, now: now)))
            }
        }
        return .created(.init(body: .json(result)))
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        try await measured(.password) {
            let scope = RequestScope.now
            guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
            try Validation.loginEmail(request.email)
            try Validation.password(request.password, field: "password", minimum: 1)
            let signedIn = try await signIn.password(
                email: request.email, password: request.password, requestID: scope.requestID,
                clientAddress: scope.clientAddress)
            return .ok(.init(body: .json(try await accessToken(signedIn))))
        }
    }

    /// Runs a sign-in and counts its outcome: answered, refused (401, 403) or limited (429).
    func measured<Output>(_ method: SessionRecord.Method, _ body: () async throws -> Output) async throws -> Output {
        do {
            let output = try await body()
            metrics?.signIn(method: method.rawValue, outcome: "succeeded")
            return output
        } catch {
            switch (error as? APIError ?? APIError(domain: error))?.status {
            case 401, 403: metrics?.signIn(method: method.rawValue, outcome: "refused")
            case 429: metrics?.signIn(method: method.rawValue, outcome: "limited")
            default: break
            }
            throw error
        }
    }

    /// The answer of every sign-in and refresh: an access token of the session and its refresh token.
    func accessToken(_ signedIn: SignedIn) async throws -> Components.Schemas.AccessToken {
        let (session, now) = (signedIn.session, signedIn.now)
        let token = try await issuer.accessToken(
            for: signedIn.user, session: session, lifetime: accessTokenLifetime, now: now)
        // Seconds left in the session, 0 to 10 years (the conversion cannot trap, whatever the dates hold).
        let left: Int = session.endsAt.timeIntervalSince(now).roundedDown(atLeast: 0, atMost: 315_360_000)
        return Components.Schemas.AccessToken(
            accessToken: token, tokenType: .bearer,
            expiresIn: min(Int(clamping: accessTokenLifetime.components.seconds), left),
            refreshToken: signedIn.refresh.text, refreshExpiresIn: left)
    }
}
