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
    struct Throttles: Sendable {
        let signupPerAddress: FixedWindowThrottle
        let loginFailuresPerEmail: FixedWindowThrottle
        let loginPerAddress: FixedWindowThrottle
        let loginGlobal: FixedWindowThrottle

        /// Throws 429 with `detail` when this replica remembers a refusal for any of `checks` (a throttle
        /// and its subject): an attempt past a limit is answered without opening a transaction.
        static func refuseRemembered(_ checks: [(FixedWindowThrottle, String)], detail: String) throws {
            for (throttle, subject) in checks {
                if case .limited(let retryAfter)? = throttle.remembered(subject) {
                    throw APIError.rateLimited(retryAfter: retryAfter, detail: detail)
                }
            }
        }
    }

    let database: Database
    let issuer: TokenIssuer
    let hasher: PasswordHasher
    /// Verified against when an email is unknown, so that case costs what a wrong password costs.
    let decoyPasswordHash: String
    let idempotency: IdempotentCreation
    let throttles: Throttles
    let accessTokenLifetime: Duration
    /// What a signup makes: the tenant, its owner, its first key and its spend limits.
    let signup: Signup
    /// What accepting an invitation makes: the account and its first session.
    let invitationAcceptance: InvitationAcceptance
    let sessions: SessionRepository
    /// This replica's cached credential states: a session this replica ends stops here before it answers.
    let credentials: CredentialStateCache
    let sessionPolicy: SessionPolicy
    /// The time sessions are judged at.
    let clock: ServerClock
    /// Sign in with GitHub, when the deployment has an OAuth app.
    let github: GitHubOAuthClient?
    let oauthStates: OAuthStateStore
    let metrics: SignInMetrics?
    let tenants = TenantRepository()
    let users = UserRepository()
    let audit = AuditLog()

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

        try await count(throttles.signupPerAddress, scope.clientAddress, detail: "Too many signups from this address.")
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

    static let tooManySignIns = "Too many sign-in attempts; try again later."

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        try await measured(.password) { try await passwordSignIn(input) }
    }

    /// Runs a sign-in and counts its outcome: answered, refused (401, 403) or limited (429).
    func measured<Output>(_ method: SessionRecord.Method, _ body: () async throws -> Output) async throws -> Output {
        do {
            let output = try await body()
            metrics?.signIn(method: method.rawValue, outcome: "succeeded")
            return output
        } catch let error as APIError {
            switch error.status {
            case 401, 403: metrics?.signIn(method: method.rawValue, outcome: "refused")
            case 429: metrics?.signIn(method: method.rawValue, outcome: "limited")
            default: break
            }
            throw error
        }
    }

    private func passwordSignIn(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        let scope = RequestScope.now
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.loginEmail(request.email)
        try Validation.password(request.password, field: "password", minimum: 1)
        // An email that normalises to nothing names no account: it fails like any unknown email.
        let email = UserRecord.normalize(email: request.email)

        // Every attempt is counted, and committed, before the password is checked, so racing attempts
        // cannot slip past a limit; a limited attempt answers without any hashing.
        let checks = [
            (throttles.loginGlobal, "*"), (throttles.loginPerAddress, scope.clientAddress),
            (throttles.loginFailuresPerEmail, email),
        ]
        try Throttles.refuseRemembered(checks, detail: Self.tooManySignIns)
        let (decision, user) = try await database.transaction(.platform) { connection in
            for (throttle, subject) in checks {
                let decision = try await throttle.hit(subject, on: connection)
                if case .limited = decision { return (decision, UserRecord?.none) }
            }
            return (
                FixedWindowThrottle.Decision.allowed(remaining: 0),
                try await users.findForLogin(email: email, on: connection)
            )
        }
        if case .limited(let retryAfter) = decision {
            throw APIError.rateLimited(retryAfter: retryAfter, detail: Self.tooManySignIns)
        }
        let matches = try await hasher.verify(request.password, encoded: user?.passwordHash ?? decoyPasswordHash)
        guard matches, let user else {
            // A wrong password for a known account is in that tenant's audit log (an unknown email has no
            // tenant to tell).
            if let user {
                try await database.withTenant(user.tenantID) { transaction in
                    try await audit.record(
                        AuditLog.Entry(
                            actorType: .user, actorID: user.id.text, action: "user.login_failed", targetType: "user",
                            targetID: user.id.text, requestID: scope.requestID, clientAddress: scope.clientAddress,
                            details: ["method": "password"]), in: transaction)
                }
            }
            throw APIError.unauthenticated("The email or password is wrong.")
        }

        return .ok(
            .init(
                body: .json(
                    try await startSession(for: user, method: .password, scope: scope) { transaction in
                        try await throttles.loginFailuresPerEmail.reset(email, on: transaction.connection)
                    })))
    }

    /// Signs `user` in by `method`: in one transaction of their tenant (which must be active), their row
    /// held so a removal at this moment either waits or makes this a 401, `also` done, the sign-in audited
    /// and a session started; answers its access and refresh tokens.
    func startSession(
        for user: UserRecord, method: SessionRecord.Method, scope: RequestScope,
        also: (TenantTransaction) async throws -> Void = { _ in }
    ) async throws -> Components.Schemas.AccessToken {
        let now = clock.now()
        let session = try await database.withTenant(user.tenantID) { transaction -> (SessionRecord, RefreshToken)? in
            try await also(transaction)
            guard let tenant = try await tenants.find(in: transaction), tenant.status == .active else { return nil }
            guard try await users.find(user.id, locking: true, in: transaction) != nil else {
                throw APIError.unauthenticated("This account no longer exists.")
            }
            try await audit.record(
                AuditLog.Entry(
                    actorType: .user, actorID: user.id.text, action: "user.login", targetType: "user",
                    targetID: user.id.text, requestID: scope.requestID, clientAddress: scope.clientAddress,
                    details: ["method": method.rawValue]), in: transaction)
            return try await sessions.start(
                userID: user.id, method: method, policy: sessionPolicy, clientAddress: scope.clientAddress, now: now,
                in: transaction)
        }
        guard let (started, refresh) = session else { throw APIError.tenantSuspended }
        return try await accessToken(for: user, session: started, refresh: refresh, now: now)
    }

    /// The answer of every sign-in and refresh: an access token of the session and its refresh token.
    func accessToken(for user: UserRecord, session: SessionRecord, refresh: RefreshToken, now: Date) async throws
        -> Components.Schemas.AccessToken
    {
        let token = try await issuer.accessToken(for: user, session: session, lifetime: accessTokenLifetime, now: now)
        // Seconds left in the session, 0 to 10 years (the conversion cannot trap, whatever the dates hold).
        let left: Int = session.endsAt.timeIntervalSince(now).roundedDown(atLeast: 0, atMost: 315_360_000)
        return Components.Schemas.AccessToken(
            accessToken: token, tokenType: .bearer,
            expiresIn: min(Int(clamping: accessTokenLifetime.components.seconds), left), refreshToken: refresh.text,
            refreshExpiresIn: left)
    }
}
