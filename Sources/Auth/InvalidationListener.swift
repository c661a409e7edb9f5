import BlockingWork
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Persistence
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Keeps this replica's credential cache honest. It holds its own Postgres connection (not one borrowed
/// from the pool, so a full pool cannot silence it), with TCP keepalive, LISTENs on the invalidation
/// channel and drops the entries each notification names: that is how a revocation reaches every
/// replica within a second. Every `heartbeatInterval` it also NOTIFYs a heartbeat of its own on that
/// channel; each one it hears, in order after the invalidations before it, tells the cache it may be
/// trusted (other replicas' heartbeats are ignored). When heartbeats stop (connection lost or
/// half-open), the cache bypasses itself, and after `deafAfter` the listener drops the connection and
/// dials again. Notifications on the channel saying `signing-keys` make the keyring reload.
public struct InvalidationListener: Service {
    let endpoint: DatabaseURL.Endpoint
    let cache: CredentialStateCache
    let onSigningKeysChanged: @Sendable () async -> Void
    let heartbeatInterval: Duration
    let deafAfter: Duration
    let logger: Logger
    /// This replica's heartbeat tag, unique per listener.
    public let heartbeatChannel: String

    public init(
        endpoint: DatabaseURL.Endpoint, cache: CredentialStateCache, heartbeatInterval: Duration = .milliseconds(200),
        deafAfter: Duration = .seconds(2), logger: Logger,
        onSigningKeysChanged: @escaping @Sendable () async -> Void = {}
    ) {
        self.endpoint = endpoint
        self.cache = cache
        self.heartbeatInterval = heartbeatInterval
        self.deafAfter = deafAfter
        self.logger = logger
        self.onSigningKeysChanged = onSigningKeysChanged
        self.heartbeatChannel =
            "controlplane_hb_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // postgres-nio's LISTEN and its statements can wait for ever on a connection that closed at
                // the wrong moment, and ignore cancellation: one connection's life is abandoned (not
                // awaited) on shutdown, or when it has heard nothing well past the time it should have
                // given up on its own. Before, that held a server's shutdown for good.
                let heard = HeartbeatClock()
                let giveUpAfter = deafAfter + .seconds(5)
                do {
                    try await Abandon.run(
                        checkingEvery: heartbeatInterval, abandonWhen: { heard.elapsed > giveUpAfter }
                    ) {
                        try await listenOnce(heard)
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning(
                        "invalidation listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                }
                cache.listenerLost()
                try? await Pause.for(.milliseconds(250))
            }
        }
    }

    struct Deaf: Error {}

    /// One connection's life: listen on both channels, send heartbeats, watch that they come back.
    private func listenOnce(_ heard: HeartbeatClock) async throws {
        let connection = try await connect()
        do {
            try await listen(on: connection, heard: heard)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private func listen(on connection: PostgresConnection, heard: HeartbeatClock) async throws {
        heard.mark()
        let channel = ApiKeyRepository.invalidationChannel
        let ownHeartbeat = "heartbeat:\(heartbeatChannel):"
        try await connection.listen(on: channel) { notifications in
            // Everything sent before this point is lost to this replica: start from an empty cache and the
            // signing keys as they are now.
            cache.invalidateAll()
            await onSigningKeysChanged()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Heartbeats travel on the invalidation channel itself and are handled by the same loop, in
                // the order Postgres delivered them: hearing one proves every invalidation committed before
                // it has been applied, however slowly this loop is scheduled.
                group.addTask {
                    for try await notification in notifications {
                        let payload = notification.payload
                        if payload.hasPrefix("heartbeat:") {
                            if payload.hasPrefix(ownHeartbeat),
                                let sequence = Int(payload.dropFirst(ownHeartbeat.count))
                            {
                                heard.mark()
                                // Fresh as of when the heartbeat was sent, not when it was heard: it proves only
                                // the invalidations committed before it.
                                if let sentAt = heard.sent(sequence) { cache.heartbeat(at: sentAt) }
                            }
                        } else if payload == "signing-keys" {
                            // Reloading reads the database; heartbeats must not wait behind it.
                            Task { await onSigningKeysChanged() }
                        } else {
                            cache.apply(notification: payload)
                        }
                    }
                }
                group.addTask {
                    var sequence = 0
                    while !Task.isCancelled {
                        sequence += 1
                        heard.sending(sequence)
                        for try await _ in try await connection.query(
                            "SELECT pg_notify(\(channel), \(ownHeartbeat + String(sequence)))", logger: logger)
                        {}
                        try await Pause.for(heartbeatInterval)
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Pause.for(heartbeatInterval)
                        if heard.elapsed > deafAfter { throw Deaf() }
                    }
                }
                // Any task ending (stream closed, query failed, deaf, shutdown) ends this connection. It is
                // closed before the other tasks are awaited: a query or stream on a dead network would not
                // notice their cancellation.
                defer {
                    group.cancelAll()
                    let closed: EventLoopFuture<Void> = connection.close()
                    closed.whenComplete { _ in }
                }
                try await group.next()
            }
        }
    }

    /// Dials Postgres with TCP keepalive and logs in. The handshake has a deadline, and shutting down
    /// cuts it short: a network that drops everything would otherwise hold it for ever. Either way the
    /// socket is closed, which is what makes postgres-nio give up.
    private func connect() async throws -> PostgresConnection {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPIDLE)), value: 5
            )
            .channelOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPINTVL)), value: 2
            )
            .channelOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPCNT)), value: 3)
            .connectTimeout(.seconds(5))
            .connect(host: endpoint.host, port: endpoint.port).get()
        var configuration = PostgresConnection.Configuration(
            establishedChannel: channel,
            tls: endpoint.requireTLS
                ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable,
            username: endpoint.username, password: endpoint.password, database: endpoint.database)
        configuration.options.additionalStartupParameters = [("application_name", "controlplane-listener")]
        let logger = self.logger
        let handshake = Task {
            try await PostgresConnection.connect(
                on: eventLoop, configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
        }
        let deadline = Task {
            try await Pause.for(deafAfter + .seconds(3))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await withTaskCancellationHandler {
            do {
                return try await handshake.value
            } catch {
                channel.close(promise: nil)
                throw error
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// When the last heartbeat was heard, and when each one in flight was sent, shared by the listener's
/// tasks.
private final class HeartbeatClock: Sendable {
    private let last = Mutex(ContinuousClock.now)
    private let inFlight = Mutex<[Int: ContinuousClock.Instant]>([:])
    func mark() { last.withLock { $0 = .now } }
    var elapsed: Duration { ContinuousClock.now - last.withLock { $0 } }

    /// Notes that heartbeat `sequence` is about to be sent.
    func sending(_ sequence: Int) {
        inFlight.withLock { sent in
            sent[sequence] = .now
            if sent.count > 256 { sent = sent.filter { $0.key > sequence - 256 } }
        }
    }

    /// When heartbeat `sequence` was sent (once).
    func sent(_ sequence: Int) -> ContinuousClock.Instant? {
        inFlight.withLock { $0.removeValue(forKey: sequence) }
    }
}
