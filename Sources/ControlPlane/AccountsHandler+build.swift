import Auth
import Edge
import Foundation
import Observability
import Persistence

/// Builds the public account routes' handler: signup, the ways of signing in and the session's life,
/// with the throttles they count attempts against.
func accountsHandler(
    configuration: Configuration, database: Database, parts: Composition, hasher: PasswordHasher,
    argon2: PasswordHasher.Parameters, idempotency: IdempotentCreation, credentials: CredentialStateCache,
    metrics: HTTPMetrics
) -> AccountsHandler {
    let auth = configuration.auth
    let sessions = SessionRepository(box: parts.box)
    let attemptsPerAddress = FixedWindowThrottle(
        scope: "login-address", limit: auth.loginAttemptsPerMinutePerAddress, window: .seconds(60))
    let signIn = SignIn(
        database: database, hasher: hasher, decoyPasswordHash: PasswordHasher.decoyHash(parameters: argon2),
        throttles: .init(
            failuresPerEmail: FixedWindowThrottle(
                scope: "login", limit: auth.loginFailuresAllowed, window: auth.loginLockout),
            perAddress: attemptsPerAddress,
            global: FixedWindowThrottle(
                scope: "login-global", limit: auth.loginAttemptsPerMinute, window: .seconds(60))),
        sessions: sessions, sessionPolicy: auth.sessionPolicy, clock: configuration.clock)
    return AccountsHandler(
        database: database, issuer: parts.issuer, idempotency: idempotency,
        signupsPerAddress: FixedWindowThrottle(
            scope: "signup", limit: auth.signupsPerHourPerAddress, window: .seconds(3600)),
        attemptsPerAddress: attemptsPerAddress, accessTokenLifetime: auth.accessTokenLifetime,
        signup: Signup(
            hasher: hasher, keyLifetime: auth.defaultKeyLifetime,
            provision: { [billing = configuration.billing] in try await billing.spendDefaults.provision(in: $0) }),
        invitationAcceptance: InvitationAcceptance(
            database: database, hasher: hasher, sessions: sessions, sessionPolicy: auth.sessionPolicy,
            clock: configuration.clock),
        signIn: signIn,
        renewal: SessionRenewal(
            database: database, sessions: sessions, sessionPolicy: auth.sessionPolicy, clock: configuration.clock,
            credentials: credentials),
        github: auth.gitHubSignIn.map {
            GitHubSignIn(
                database: database, client: GitHubOAuthClient(settings: $0, client: .shared),
                states: OAuthStateStore(box: parts.box), signIn: signIn, clock: configuration.clock)
        }, metrics: SignInMetrics(registry: metrics.registry))
}
