import Auth
import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import PostgresNIO
import RedisClient
import ServiceLifecycle
import Tenancy
import ControlPlaneAPI

/// Builds the whole API server from a configuration: the only place that names concrete
/// implementations. Postgres, the invalidation listener and the usage recorder run as services of the
/// application, so the HTTP server starts after them and stops first.
public func buildApplication(_ configuration: Configuration, logger: Logger) throws -> some ApplicationProtocol {
    let box = try SecretBox(base64MasterKey: configuration.masterKey)
    var postgresConfiguration = try DatabaseURL.configuration(configuration.databaseURL)
    postgresConfiguration.options.maximumConnections = configuration.databasePoolSize
    var postgresLogger = logger
    postgresLogger.logLevel = .warning
    let client = PostgresClient(configuration: postgresConfiguration, backgroundLogger: postgresLogger)
    let database = Database(client: client, logger: postgresLogger)
    let redis = try RedisClient(url: configuration.redisURL)

    let keyring = SigningKeyring(database: database, box: box, logger: logger)
    let codec = TokenCodec(issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
    let credentials = CredentialStateCache(ttl: configuration.credentialCacheTTL)
    let usage = KeyUsageRecorder(database: database, logger: logger)
    let authenticator = Authenticator(
        codec: codec, keyring: keyring, database: database, tokens: VerifiedTokenCache(), credentials: credentials,
        usage: usage)
    let hasher = PasswordHasher(
        parameters: .init(memoryKiB: configuration.argon2MemoryKiB, iterations: configuration.argon2Iterations))
    let metrics = HTTPMetrics()
    let decoyHash = try PasswordHasher.hashBlocking(
        UUID().uuidString, parameters: .init(memoryKiB: configuration.argon2MemoryKiB, iterations: configuration.argon2Iterations))

    let handler = APIHandler(
        configuration: configuration, database: database, redis: redis,
        issuer: TokenIssuer(codec: codec, keyring: keyring), authenticator: authenticator, hasher: hasher,
        decoyPasswordHash: decoyHash, idempotency: IdempotencyStore(box: box),
        signupThrottle: FixedWindowThrottle(
            scope: "signup", limit: configuration.signupsPerHourPerAddress, window: .seconds(3600)),
        loginThrottle: FixedWindowThrottle(
            scope: "login", limit: configuration.loginFailuresAllowed, window: configuration.loginLockout),
        metrics: metrics)

    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(
        EdgeMiddleware(
            maxBodyBytes: configuration.maxBodyBytes, trustForwardedFor: configuration.trustForwardedFor,
            metrics: metrics, logger: logger))
    try handler.registerHandlers(
        on: router, serverURL: URL(string: "/")!,
        middlewares: [ErrorMappingMiddleware(logger: logger), AuthenticationMiddleware(authenticator: authenticator)])

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: nil),
        services: [client, InvalidationListener(client: client, cache: credentials, logger: logger), usage],
        logger: logger)
    app.beforeServerStarts {
        try await keyring.load(generateIfEmpty: true)
    }
    return app
}
