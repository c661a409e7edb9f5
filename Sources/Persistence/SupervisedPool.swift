import BlockingWork
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization
import _ConnectionPoolModule

/// postgres-nio's connection pool under a supervisor, so that Postgres going away (restarted, failed
/// over, unreachable) costs 503 answers while it is away and nothing more.
///
/// Why a supervisor: postgres-nio 1.33.2's pool traps on a Postgres restart when it keeps a minimum of
/// connections (`createNewDemandConnectionIfPossible` asserts that the minimum is open, and a failed
/// reconnection leaves fewer), strands a waiting lease when its last connection closes with a minimum of
/// zero (postgres-nio #657), and after a long outage backs off for up to a minute before it dials again.
/// So the pool here always has a minimum of zero (the assertion cannot fail; warm connections are opened
/// by a warm-up instead), a probe through the pool every `probeInterval` (a lease that arrives un-strands
/// a stranded one), and a pool that cannot serve while it has room is retired: its waiting leases fail
/// at once, and a fresh pool, with no backoff state, is started as soon as a direct connection to
/// Postgres succeeds. While there is none, every caller gets `DatabaseUnavailable` without waiting.
public final class SupervisedPool: Service, Sendable {
    /// How the supervisor watches and dials.
    public struct Settings: Sendable {
        /// How often the pool is probed with `SELECT 1` while all is well.
        public var probeInterval: Duration
        /// How long a probe (a lease and `SELECT 1`, or a direct connection) may take.
        public var probeTimeout: Duration
        /// How often Postgres is dialled while it is away.
        public var reconnectInterval: Duration
        /// Connections opened when a pool starts, so the first requests do not each dial.
        public var warmConnections: Int

        public init(
            probeInterval: Duration = .seconds(1), probeTimeout: Duration = .seconds(2),
            reconnectInterval: Duration = .milliseconds(250), warmConnections: Int = 0
        ) {
            self.probeInterval = probeInterval
            self.probeTimeout = probeTimeout
            self.reconnectInterval = reconnectInterval
            self.warmConnections = warmConnections
        }
    }

    private struct State {
        /// The pool that serves, once its `run` has begun.
        var client: PostgresClient?
        /// A pool exists whose `run` has not begun yet: callers wait for it rather than failing.
        var starting: PostgresClient?
        var waitingForStart: [CheckedContinuation<PostgresClient, any Error>] = []
        var suspicion: CheckedContinuation<Void, Never>?
        var suspected = false
    }

    private let configuration: PostgresClient.Configuration
    private let endpoint: DatabaseURL.Endpoint
    private let settings: Settings
    private let logger: Logger
    private let capacity: Int
    private let state = Mutex(State())
    private let usage = Mutex<PoolUsage?>(nil)

    /// A supervised pool with `configuration` (its minimum of connections is always zero; see above),
    /// dialling `endpoint` directly to learn when Postgres is back.
    public init(
        configuration: PostgresClient.Configuration, endpoint: DatabaseURL.Endpoint, settings: Settings = Settings(),
        logger: Logger
    ) {
        var configuration = configuration
        configuration.options.minimumConnections = 0
        self.configuration = configuration
        self.endpoint = endpoint
        self.capacity = configuration.options.maximumConnections
        self.settings = settings
        self.logger = logger
        // The first pool exists at once, so that work before `run` starts (the checks before a server
        // listens) waits for it, as it would with a plain client.
        let first = PostgresClient(configuration: configuration, backgroundLogger: logger)
        state.withLock { $0.starting = first }
    }

    /// The pool to lease from now. A pool whose `run` has not begun is waited for (at most `limit`):
    /// leasing from it earlier works but makes postgres-nio warn on every lease.
    func client(waitingAtMost limit: Duration) async throws -> PostgresClient {
        enum Now {
            case serving(PostgresClient)
            case starting
            case away
        }
        let now = state.withLock { state -> Now in
            if let client = state.client { return .serving(client) }
            return state.starting == nil ? .away : .starting
        }
        switch now {
        case .serving(let client): return client
        case .away: throw DatabaseUnavailable()
        case .starting:
            do {
                return try await Abandon.within(limit) { try await self.waitForStart() }
            } catch is Abandon.Abandoned {
                throw DatabaseUnavailable()
            }
        }
    }

    private func waitForStart() async throws -> PostgresClient {
        try await withCheckedThrowingContinuation { continuation in
            let now = state.withLock { state -> Result<PostgresClient, any Error>? in
                if let client = state.client { return .success(client) }
                guard state.starting != nil else { return .failure(DatabaseUnavailable()) }
                state.waitingForStart.append(continuation)
                return nil
            }
            if let now { continuation.resume(with: now) }
        }
    }

    /// Makes `client` (or, with nil, no pool) the one callers get, and answers those waiting for a start.
    private func publish(_ client: PostgresClient?) {
        let waiting = state.withLock { state in
            state.client = client
            state.starting = nil
            state.suspected = false
            defer { state.waitingForStart = [] }
            return state.waitingForStart
        }
        let answer: Result<PostgresClient, any Error> = client.map { .success($0) } ?? .failure(DatabaseUnavailable())
        for continuation in waiting { continuation.resume(with: answer) }
    }

    /// A caller met a connection-level failure: the supervisor checks the pool now, not at its next probe.
    func suspect() {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.suspected = true
            defer { state.suspicion = nil }
            return state.suspicion
        }
        waiting?.resume()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.supervise() }
    }

    /// Runs pools one after another: each serves until it is judged broken, then the next starts once
    /// Postgres answers a direct connection.
    private func supervise() async {
        var next = state.withLock { $0.starting }
        while !Task.isCancelled {
            let client = next ?? PostgresClient(configuration: configuration, backgroundLogger: logger)
            next = nil
            state.withLock { $0.starting = client }
            let running = Task {
                self.publish(client)
                await client.run()
            }
            await warmUp(client)
            await watch(client)
            publish(nil)
            // Cancelling the pool's run fails its waiting leases and closes its connections.
            running.cancel()
            await running.value
            if Task.isCancelled { break }
            logger.warning("the Postgres pool stopped serving; waiting for Postgres to answer a new connection")
            await waitUntilReachable()
            if !Task.isCancelled { logger.notice("Postgres answers again; a new pool serves") }
        }
    }

    /// Opens the warm connections: that many `SELECT 1` at once make the pool dial that many.
    private func warmUp(_ client: PostgresClient) async {
        let count = min(settings.warmConnections, capacity)
        // After its `run` has begun (leases before it make postgres-nio warn).
        guard count > 0, (try? await self.client(waitingAtMost: settings.probeTimeout)) === client else { return }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { _ = await Self.within(self.settings.probeTimeout) { try await Self.selectOne(client) } }
            }
        }
    }

    /// Returns when `client` should be retired: a probe through it failed while it had room to serve (a
    /// pool that is merely busy is left alone), or the supervisor is cancelled.
    private func watch(_ client: PostgresClient) async {
        while !Task.isCancelled {
            await waitForSuspicionOrProbeTime()
            if Task.isCancelled { return }
            if await Self.within(settings.probeTimeout, { try await Self.selectOne(client) }) { continue }
            if Task.isCancelled { return }
            // Busy with long statements is not broken: keep the pool while Postgres itself answers.
            if usageAtCapacity(), await Self.within(settings.probeTimeout, { try await self.dialOnce() }) { continue }
            return
        }
    }

    /// Whether every connection of the pool is taken (`Database` shares its count through `watching`).
    private func usageAtCapacity() -> Bool { usage.withLock { $0?.inUse ?? 0 } >= capacity }

    /// Lets the supervisor tell a busy pool from a broken one.
    func watching(_ usage: PoolUsage) { self.usage.withLock { $0 = usage } }

    private func waitForSuspicionOrProbeTime() async {
        let interval = settings.probeInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.suspected || Task.isCancelled {
                                state.suspected = false
                                return true
                            }
                            state.suspicion = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiting = self.state.withLock { state in
                        defer { state.suspicion = nil }
                        return state.suspicion
                    }
                    waiting?.resume()
                }
            }
            group.addTask { try? await Pause.for(interval) }
            await group.next()
            group.cancelAll()
        }
        state.withLock { $0.suspected = false }
    }

    /// Dials Postgres directly every `reconnectInterval` until a connection answers `SELECT 1`.
    private func waitUntilReachable() async {
        while !Task.isCancelled {
            if await Self.within(settings.probeTimeout, { try await self.dialOnce() }) { return }
            try? await Pause.for(settings.reconnectInterval)
        }
    }

    /// One connection of its own (never the pool's): connect, `SELECT 1`, close.
    private func dialOnce() async throws {
        var connectionConfiguration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database,
            tls: endpoint.requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        )
        connectionConfiguration.options.connectTimeout = TimeAmount(settings.probeTimeout)
        let connection = try await PostgresConnection.connect(
            configuration: connectionConfiguration, id: 0, logger: logger)
        do {
            try await connection.query("SELECT 1", logger: logger).collect()
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    private static func selectOne(_ client: PostgresClient) async throws {
        try await client.query("SELECT 1").collect()
    }

    /// Whether `work` succeeds within `limit`; past it, the work is cancelled and left behind (a task
    /// group would wait for a postgres-nio call that never ends).
    static func within(_ limit: Duration, _ work: @escaping @Sendable () async throws -> Void) async -> Bool {
        (try? await Abandon.within(limit, work)) != nil
    }
}

/// Postgres cannot be reached right now; the caller should try again in a moment (a 503 with
/// `Retry-After`).
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    /// Seconds after which a retry is worth it.
    public let retryAfterSeconds: Int
    public init(retryAfterSeconds: Int = 2) { self.retryAfterSeconds = retryAfterSeconds }
    public var description: String { "the database is unavailable" }

    /// Whether `error` says the connection or the server went away (rather than the statement failing).
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        // The pool's own errors (shut down, circuit open, lease cancelled) reach callers of `withConnection`
        // unwrapped.
        if error is DatabaseUnavailable || error is StatementTimedOut || error is ConnectionPoolError { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }
}
