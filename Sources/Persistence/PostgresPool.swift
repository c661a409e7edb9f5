import BlockingWork
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The application's pool of Postgres connections: at most `size` open, handed out one per lease (last
/// parked, first handed out), so that Postgres going away (restarted, failed over, unreachable) costs
/// 503 answers while it is away and nothing more.
///
/// Why not postgres-nio's pool: its 1.33.2 pool arms a timer task (through `Task.sleep`) for every
/// connection it parks, a keep-alive one and an idle one, which cost a third of the client's CPU per
/// statement (measured: 53 against 34 µs of a `SELECT 1` at 16 at once); it traps on a Postgres restart
/// when it keeps a minimum of connections, strands a waiting lease when its last connection closes
/// (postgres-nio #657), and backs off for up to a minute after a long outage. Here:
/// - a connection that failed, or that its statement's deadline closed, is dropped when it is handed
///   back, and one that closed while parked is dropped when it would be handed out;
/// - when a new connection cannot be opened, Postgres is taken to be away: every caller without a parked
///   connection gets `DatabaseUnavailable` at once, and Postgres is dialled again (by name) every
///   `reconnectInterval`, by the next caller or by `run`, whichever comes first;
/// - a caller waits for a connection at most its `limit`, on a timer armed only while it waits;
/// - keep-alive checks, closing connections idle too long and reopening the warm ones are one pass of
///   `run` every second over the parked connections, not a timer per park.
public final class PostgresPool: Service, Sendable {
    /// How the pool dials, keeps and checks its connections.
    public struct Settings: Sendable {
        /// The most connections open at once.
        public var size: Int
        /// Connections opened when the pool starts and kept open while idle.
        public var warmConnections: Int
        /// How long a connection may stay parked before it is closed (beyond the warm ones).
        public var idleTimeout: Duration
        /// A connection parked this long is checked with `SELECT 1` (nil: never); finds connections a
        /// firewall or NAT dropped while idle.
        public var keepAlive: Duration?
        /// How long dialling (connect, TLS, start-up, authentication) and a keep-alive check may take.
        public var dialTimeout: Duration
        /// How often Postgres is dialled while it is away.
        public var reconnectInterval: Duration

        public init(
            size: Int, warmConnections: Int = 0, idleTimeout: Duration = .seconds(300), keepAlive: Duration? = nil,
            dialTimeout: Duration = .seconds(2), reconnectInterval: Duration = .milliseconds(250)
        ) {
            self.size = max(1, size)
            self.warmConnections = min(max(0, warmConnections), self.size)
            self.idleTimeout = idleTimeout
            self.keepAlive = keepAlive
            self.dialTimeout = dialTimeout
            self.reconnectInterval = reconnectInterval
        }
    }

    private struct Parked {
        let connection: PostgresConnection
        let since: ContinuousClock.Instant
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<PostgresConnection, any Error>
    }

    private struct State {
        var parked: [Parked] = []
        /// Connections open, being dialled or handed out: never more than `size`.
        var open = 0
        var waiters: [Waiter] = []
        var nextID = 0
        /// When a dial last failed, while no dial has succeeded since: Postgres is away.
        var awaySince: ContinuousClock.Instant?
        /// A dial to learn whether Postgres is back is under way (one at a time).
        var probing = false
        /// A check that Postgres still answers is under way (one at a time).
        var checking = false
        /// Connections handed out, closed at once when Postgres is found not to answer.
        var out: [ObjectIdentifier: PostgresConnection] = [:]
        var shutDown = false
    }

    /// What a caller does after looking at the state.
    private enum Step {
        case use(PostgresConnection)
        case wait(id: Int, dial: Bool)
        case unavailable
    }

    public let settings: Settings
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let connectionIDs = Atomic<Int>(0)

    /// A pool dialling `endpoint`; `applicationName` names its connections in `pg_stat_activity`.
    public init(
        endpoint: DatabaseURL.Endpoint, applicationName: String = "controlplane", settings: Settings, logger: Logger
    ) throws {
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database,
            tls: endpoint.requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        )
        configuration.options.connectTimeout = TimeAmount(settings.dialTimeout)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        self.configuration = configuration
        self.settings = settings
        self.logger = logger
    }

    /// Runs `body` with a connection of its own, waiting at most `limit` for one. The connection goes
    /// back to the pool afterwards, unless it failed (a connection-level error, or closed under `body`).
    public func withConnection<Result>(
        waitingAtMost limit: Duration, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await lease(waitingAtMost: limit)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            handBack(connection, reusable: !DatabaseUnavailable.isConnectionFailure(error))
            throw error
        }
        handBack(connection, reusable: true)
        return result
    }

    /// Connections open (parked or handed out) and parked now, for tests and metrics.
    public var counts: (open: Int, parked: Int) { state.withLock { ($0.open, $0.parked.count) } }

    /// Whether Postgres was away at the last dial.
    public var isAway: Bool { state.withLock { $0.awaySince != nil } }

    // MARK: Leasing

    private func lease(waitingAtMost limit: Duration) async throws -> PostgresConnection {
        var closed: [PostgresConnection] = []
        let step = state.withLock { state -> Step in
            guard !state.shutDown else { return .unavailable }
            while let last = state.parked.popLast() {
                guard last.connection.isClosed else {
                    state.out[ObjectIdentifier(last.connection)] = last.connection
                    return .use(last.connection)
                }
                closed.append(last.connection)
                state.open -= 1
            }
            var dial = false
            if let since = state.awaySince {
                // Away: only the caller that finds a reconnect due waits, for that dial.
                guard !state.probing, ContinuousClock.now - since >= settings.reconnectInterval else {
                    return .unavailable
                }
                guard state.open < settings.size else { return .unavailable }
                state.probing = true
                dial = true
            } else if state.open < settings.size {
                dial = true
            }
            if dial { state.open += 1 }
            defer { state.nextID &+= 1 }
            return .wait(id: state.nextID, dial: dial)
        }
        for connection in closed { close(connection) }
        switch step {
        case .use(let connection): return connection
        case .unavailable: throw DatabaseUnavailable()
        case .wait(let id, let dial):
            if dial { Task { await self.dialForPool() } }
            return try await wait(id, atMost: limit)
        }
    }

    /// Waits in line (first in, first out) for a connection handed back or newly dialled.
    private func wait(_ id: Int, atMost limit: Duration) async throws -> PostgresConnection {
        let deadline = Mutex<Scheduled<Void>?>(nil)
        defer { deadline.withLock { $0?.cancel() } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<PostgresConnection, any Error>) in
                let refused = state.withLock { state -> (any Error)? in
                    if Task.isCancelled { return CancellationError() }
                    if state.shutDown { return DatabaseUnavailable() }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let refused { return continuation.resume(throwing: refused) }
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
                    self.leave(id, with: DatabaseUnavailable())
                }
                deadline.withLock { $0 = timer }
            }
        } onCancel: {
            self.leave(id, with: CancellationError())
        }
    }

    /// Takes waiter `id` out of the line, failing it with `error`, if it still waits.
    private func leave(_ id: Int, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Hands `connection` to the first caller in line, or parks it; a failed or closed one is closed and
    /// its place given to a new dial when callers wait.
    private func handBack(_ connection: PostgresConnection, reusable: Bool) {
        enum Outcome {
            case handed(Waiter)
            case parked
            case dropped(redial: Bool)
        }
        let keep = reusable && !connection.isClosed
        let outcome = state.withLock { state -> Outcome in
            state.out[ObjectIdentifier(connection)] = nil
            if keep, !state.shutDown {
                guard state.waiters.isEmpty else {
                    state.out[ObjectIdentifier(connection)] = connection
                    return .handed(state.waiters.removeFirst())
                }
                state.parked.append(Parked(connection: connection, since: .now))
                return .parked
            }
            // A caller waits and Postgres is not known to be away: the place goes to a new dial.
            if !state.shutDown, !state.waiters.isEmpty, state.awaySince == nil { return .dropped(redial: true) }
            state.open -= 1
            return .dropped(redial: false)
        }
        switch outcome {
        case .handed(let waiter):
            waiter.continuation.resume(returning: connection)
        case .parked:
            break
        case .dropped(let redial):
            close(connection)
            if redial { Task { await self.dialForPool() } }
            // A connection failed under its caller: whether Postgres still answers is checked now, not at
            // the next upkeep.
            if !reusable { Task { await self.check() } }
        }
    }

    // MARK: Dialling

    /// Dials one connection for the place already counted in `open`: it goes to the first caller in line
    /// or is parked. When the dial fails, Postgres is away: the place is given up and every caller in
    /// line gets `DatabaseUnavailable`.
    private func dialForPool() async {
        do {
            let connection = try await dial()
            state.withLock {
                $0.awaySince = nil
                $0.probing = false
            }
            handBack(connection, reusable: true)
        } catch {
            let (waiting, wasAway) = state.withLock { state -> ([Waiter], Bool) in
                let wasAway = state.awaySince != nil
                state.open -= 1
                state.awaySince = .now
                state.probing = false
                defer { state.waiters = [] }
                return (state.waiters, wasAway)
            }
            if !wasAway {
                logger.warning(
                    "Postgres cannot be reached; dialling again every \(settings.reconnectInterval)",
                    metadata: ["error": .string(String(reflecting: error))])
            }
            for waiter in waiting { waiter.continuation.resume(throwing: DatabaseUnavailable()) }
        }
    }

    /// One new connection, within `dialTimeout` (a server that accepts and never answers the start-up
    /// cannot hold the dial); a connection that arrives after the dial was given up (its deadline passed,
    /// or its caller was cancelled) is closed.
    private func dial() async throws -> PostgresConnection {
        let arrived = Mutex<(connection: PostgresConnection?, givenUp: Bool)>((nil, false))
        let id = connectionIDs.add(1, ordering: .relaxed).newValue
        let configuration = self.configuration
        let logger = self.logger
        do {
            try await Abandon.within(settings.dialTimeout) {
                // Each connection on the next event loop in turn. postgres-nio's default is the loop the
                // caller runs on, and every task runs on a loop here: a worker's slots, all started from
                // one task, had every connection (and so every statement's answer) on one loop, one core.
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id,
                    logger: logger)
                let keep = arrived.withLock { arrived -> Bool in
                    if arrived.givenUp { return false }
                    arrived.connection = connection
                    return true
                }
                // Closed as `close` does, not by awaiting: this task may be cancelled by now, and a
                // connection freed unclosed traps (postgres-nio asserts it).
                if !keep { self.close(connection) }
            }
        } catch {
            // Given up however it ended (its deadline, the caller's cancellation): a connection that
            // arrived is closed here, one that arrives later by the dial itself.
            let arrivedAlready = arrived.withLock { arrived -> PostgresConnection? in
                arrived.givenUp = true
                defer { arrived.connection = nil }
                return arrived.connection
            }
            if let arrivedAlready { close(arrivedAlready) }
            if error is Abandon.Abandoned { throw DatabaseUnavailable() }
            throw error
        }
        let connection = arrived.withLock { arrived -> PostgresConnection? in
            defer { arrived.connection = nil }
            return arrived.connection
        }
        guard let connection else { throw DatabaseUnavailable() }
        return connection
    }

    /// Closes `connection`, keeping it alive until its channel has closed (postgres-nio asserts that a
    /// connection is closed when it is freed).
    private func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    // MARK: Upkeep

    /// Opens the warm connections, then once a second: dials while Postgres is away, checks connections
    /// parked longer than `keepAlive`, closes those parked longer than `idleTimeout` beyond the warm ones,
    /// and reopens warm ones that closed. On shutdown, closes every connection and fails every waiter.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.openWarmConnections()
            while !Task.isCancelled {
                try? await Pause.for(min(.seconds(1), self.settings.reconnectInterval * 4))
                if Task.isCancelled { break }
                await self.upkeep()
            }
        }
        shutDown()
    }

    /// Dials up to the warm count of connections at once (fewer when some are open already).
    private func openWarmConnections() async {
        let count = state.withLock { state -> Int in
            guard state.awaySince == nil, !state.shutDown else { return 0 }
            let missing = max(0, min(settings.warmConnections, settings.size) - state.open)
            state.open += missing
            return missing
        }
        guard count > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count { group.addTask { await self.dialForPool() } }
        }
    }

    private func upkeep() async {
        enum Due {
            case reconnect
            case tend(check: [PostgresConnection], close: [PostgresConnection])
        }
        let due = state.withLock { state -> Due in
            if let since = state.awaySince {
                guard !state.probing, state.open < settings.size,
                    ContinuousClock.now - since >= settings.reconnectInterval
                else { return .tend(check: [], close: []) }
                state.probing = true
                state.open += 1
                return .reconnect
            }
            let now = ContinuousClock.now
            var keep: [Parked] = []
            var check: [PostgresConnection] = []
            var close: [PostgresConnection] = []
            // Oldest first: the warm ones that stay are the most recently used.
            var closable = max(0, state.open - settings.warmConnections)
            for parked in state.parked {
                let idle = now - parked.since
                if parked.connection.isClosed || (closable > 0 && idle >= settings.idleTimeout) {
                    close.append(parked.connection)
                    state.open -= 1
                    closable -= 1
                } else if let keepAlive = settings.keepAlive, idle >= keepAlive {
                    check.append(parked.connection)
                } else {
                    keep.append(parked)
                }
            }
            state.parked = keep
            return .tend(check: check, close: close)
        }
        switch due {
        case .reconnect:
            await dialForPool()
        case .tend(let check, let closing):
            await self.check()
            for connection in closing { close(connection) }
            await withTaskGroup(of: Void.self) { group in
                for connection in check {
                    group.addTask { await self.keepAlive(connection) }
                }
            }
            await openWarmConnections()
        }
    }

    /// `SELECT 1` on a parked connection taken out of the pool; it goes back only when it answered.
    private func keepAlive(_ connection: PostgresConnection) async {
        handBack(connection, reusable: await answers(connection))
    }

    /// Whether `connection` answers `SELECT 1` within `dialTimeout` (past it, the connection is closed).
    private func answers(_ connection: PostgresConnection) async -> Bool {
        let logger = self.logger
        return
            (try? await StatementDeadline.$limit.withValue(settings.dialTimeout) {
                try await connection.statement("SELECT 1", logger: logger).collect()
            }) != nil
    }

    /// Checks that Postgres still answers (a parked connection's `SELECT 1`, confirmed by a new connection
    /// when it fails, or a new connection when none is parked). When it does not (frozen, unreachable,
    /// gone), Postgres is away: every connection, in use or parked, is closed, so that callers get
    /// `DatabaseUnavailable` now rather than at their statements' deadlines.
    private func check() async {
        let parked = state.withLock { state -> PostgresConnection?? in
            guard !state.checking, !state.shutDown, state.awaySince == nil else { return .none }
            state.checking = true
            guard let parked = state.parked.popLast()?.connection else { return .some(nil) }
            state.out[ObjectIdentifier(parked)] = parked
            return .some(parked)
        }
        guard case .some(let candidate) = parked else { return }
        var answered = false
        if let candidate {
            answered = await answers(candidate)
            handBack(candidate, reusable: answered)
        }
        if !answered, let fresh = try? await dial() {
            answered = await answers(fresh)
            close(fresh)
        }
        if !answered { declareAway() }
        state.withLock { $0.checking = false }
    }

    /// Postgres does not answer: closes every connection (callers in a statement get a connection error,
    /// answered as `DatabaseUnavailable`), fails every waiter, and dials again every `reconnectInterval`.
    private func declareAway() {
        let (parked, out, waiting) = state.withLock { state -> ([Parked], [PostgresConnection], [Waiter]) in
            if state.awaySince == nil { state.awaySince = .now }
            state.open -= state.parked.count
            defer {
                state.parked = []
                state.waiters = []
            }
            return (state.parked, Array(state.out.values), state.waiters)
        }
        logger.warning(
            "Postgres does not answer; closing the pool's connections and dialling again every \(settings.reconnectInterval)"
        )
        for parked in parked { close(parked.connection) }
        for connection in out { close(connection) }
        for waiter in waiting { waiter.continuation.resume(throwing: DatabaseUnavailable()) }
    }

    private func shutDown() {
        let (parked, waiting) = state.withLock { state -> ([Parked], [Waiter]) in
            state.shutDown = true
            state.open -= state.parked.count
            defer {
                state.parked = []
                state.waiters = []
            }
            return (state.parked, state.waiters)
        }
        for parked in parked { close(parked.connection) }
        for waiter in waiting { waiter.continuation.resume(throwing: DatabaseUnavailable()) }
    }
}
