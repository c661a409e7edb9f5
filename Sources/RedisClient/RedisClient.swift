import Foundation
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small pool of blocking hiredis connections whose calls run on threads of the client's own, never
/// on an event loop and never on threads other blocking work (password hashing) uses. Each call may
/// set its own timeout (a queue's long blocking read needs more than a `PING`); a connection that fails
/// is discarded and the next call opens a new one. A `Service`: its threads stop with the application.
public final class RedisClient: Service, Sendable {
    public let host: String
    public let port: Int
    private let password: String?
    private let database: Int
    /// The timeout of calls that name none.
    public let defaultTimeout: Duration
    private let maxIdle: Int
    private let idle = Mutex([RedisConnection]())
    private let threadPool: NIOThreadPool

    /// A client for `redis://[:password@]host[:port][/db]` with `threads` threads for its calls.
    public init(url: String, defaultTimeout: Duration = .seconds(2), threads: Int = 4, maxIdle: Int = 8) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host,
            !host.isEmpty
        else { throw RedisError.invalidURL("expected redis://[:password@]host:port[/db]") }
        self.host = host
        self.port = components.port ?? 6379
        self.password = components.password?.removingPercentEncoding
        self.database = Int(components.path.dropFirst()) ?? 0
        self.defaultTimeout = defaultTimeout
        self.maxIdle = maxIdle
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        threadPool.start()
    }

    /// Runs one command, e.g. `["PING"]`; a Redis error reply throws `RedisError.server`.
    @discardableResult
    public func command(_ arguments: [String], timeout: Duration? = nil) async throws -> RedisReply {
        let reply = try await pipeline([arguments], timeout: timeout)[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Runs several commands in one round trip; replies come back in order (errors as `.error`).
    public func pipeline(_ commands: [[String]], timeout: Duration? = nil) async throws -> [RedisReply] {
        let encoded = commands.map { $0.map { Array($0.utf8) } }
        let timeout = timeout ?? defaultTimeout
        return try await threadPool.runIfActive {
            try self.withConnection(timeout: timeout) { try $0.pipeline(encoded) }
        }
    }

    /// Answers when Redis answers `PING` with `PONG`.
    public func ping() async throws {
        guard try await command(["PING"]).string == "PONG" else { throw RedisError.io("unexpected PING reply") }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await threadPool.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }

    private func withConnection<R>(timeout: Duration, _ body: (RedisConnection) throws -> R) throws -> R {
        let connection = try idle.withLock { $0.popLast() } ?? open(timeout: timeout)
        try connection.setTimeout(timeout)
        // A connection whose call threw may be desynchronised: it is dropped (closed by deinit), never reused.
        let result = try body(connection)
        if !connection.isBroken {
            idle.withLock { if $0.count < maxIdle { $0.append(connection) } }
        }
        return result
    }

    private func open(timeout: Duration) throws -> RedisConnection {
        let connection = try RedisConnection(host: host, port: port, timeout: timeout)
        var setup: [[[UInt8]]] = []
        if let password { setup.append([Array("AUTH".utf8), Array(password.utf8)]) }
        if database != 0 { setup.append([Array("SELECT".utf8), Array(String(database).utf8)]) }
        if !setup.isEmpty {
            for reply in try connection.pipeline(setup) {
                if case .error(let message) = reply { throw RedisError.server(message) }
            }
        }
        return connection
    }
}
