import Auth
import Foundation
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The objects every entry point shares, built once from the configuration: the only place that names
/// concrete implementations. The API server and the CLI commands both start here, so a command mints
/// and checks tokens exactly as the server does.
struct Composition: Sendable {
    let configuration: Configuration
    let logger: Logger
    let box: SecretBox
    /// The application role's pool; a `Service` that the caller must run (a supervised pool for the
    /// server and worker, a plain client for one-shot commands).
    let pool: any Service
    /// The plain client of a one-shot command (nil for the server and worker).
    private let commandClient: PostgresClient?
    let database: Database
    let keyring: SigningKeyring
    let codec: TokenCodec
    let issuer: TokenIssuer
    private let poolRuns = RunOnce()

    init(
        _ configuration: Configuration, logger: Logger, databaseURL: String? = nil,
        postgresLogLevel: Logger.Level = .warning, supervised: Bool = true
    ) throws {
        self.configuration = configuration
        self.logger = logger
        box = try SecretBox(
            base64MasterKey: configuration.sealing.masterKey, previous: configuration.sealing.previousMasterKey)
        let url = databaseURL ?? configuration.database.url
        var postgresConfiguration = try DatabaseURL.configuration(url)
        postgresConfiguration.options.maximumConnections = configuration.database.poolSize
        postgresConfiguration.options.minimumConnections = 0
        postgresConfiguration.options.connectionIdleTimeout = .seconds(configuration.database.idleSeconds)
        postgresConfiguration.options.keepAliveBehavior =
            configuration.database.keepAliveSeconds > 0
            ? .init(frequency: .seconds(configuration.database.keepAliveSeconds)) : nil
        var postgresLogger = logger
        postgresLogger.logLevel = postgresLogLevel
        if supervised {
            let applicationPool = try PostgresPool(
                endpoint: try DatabaseURL.endpoint(url),
                settings: .init(
                    size: configuration.database.poolSize, warmConnections: configuration.database.poolMinimum,
                    idleTimeout: .seconds(configuration.database.idleSeconds),
                    keepAlive: configuration.database.keepAliveSeconds > 0
                        ? .seconds(configuration.database.keepAliveSeconds) : nil,
                    dialTimeout: configuration.database.probeTimeout,
                    reconnectInterval: configuration.database.reconnectInterval),
                logger: postgresLogger)
            pool = applicationPool
            commandClient = nil
            database = Database(
                pool: applicationPool, logger: postgresLogger,
                connectionsPerTenant: configuration.database.connectionsPerTenant,
                statementTimeout: configuration.database.statementTimeout)
        } else {
            let client = PostgresClient(configuration: postgresConfiguration, backgroundLogger: postgresLogger)
            pool = client
            commandClient = client
            database = Database(
                client: client, logger: postgresLogger, poolSize: configuration.database.poolSize,
                connectionsPerTenant: configuration.database.connectionsPerTenant,
                statementTimeout: configuration.database.statementTimeout)
        }
        keyring = SigningKeyring(database: database, box: box, logger: logger)
        codec = TokenCodec(
            issuer: configuration.auth.jwtIssuer, audience: configuration.auth.jwtAudience,
            operatorAudience: configuration.auth.operatorAudience)
        issuer = TokenIssuer(codec: codec, keyring: keyring)
    }

    /// The composition of a one-shot command: configuration from the environment, logs to standard error
    /// (standard output is the command's answer), and with `owner`, the owner role's connection
    /// (`CP_MIGRATION_DATABASE_URL`) for what the application role may not do.
    static func forCommand(owner: Bool = false) throws -> Composition {
        let configuration = try Configuration()
        return try Composition(
            configuration, logger: makeLogger(configuration, toStandardError: true),
            databaseURL: owner ? configuration.database.migrationURL : nil,
            // A command leases its first connection as the pool starts; postgres-nio warns about that.
            postgresLogLevel: .error, supervised: false)
    }

    /// Runs `body` while the Postgres pool runs, for one-shot commands. A pool runs once: a second call
    /// throws instead of letting postgres-nio trap.
    func withDatabase<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        guard let client = commandClient, poolRuns.claim() else { throw PoolAlreadyRan() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// A one-shot command asked its database pool to run a second time.
struct PoolAlreadyRan: Error {}

/// Hands out one claim, ever.
private final class RunOnce: Sendable {
    private let claimed = Atomic<Bool>(false)
    func claim() -> Bool { !claimed.exchange(true, ordering: .acquiringAndReleasing) }
}
