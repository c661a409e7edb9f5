import Foundation
import NIOPosix
import Synchronization

/// A small pool of blocking hiredis connections whose calls run on a thread pool, never on an event
/// loop. A connection that fails is discarded and the next call opens a new one.
public final class RedisClient: Sendable {
    public let host: String
    public let port: Int
    private let password: String?
    private let database: Int
    private let timeoutMilliseconds: Int
    private let maxIdle: Int
    private let idle = Mutex([RedisConnection]())
    private let threadPool: NIOThreadPool

    /// A client for `redis://[:password@]host[:port][/db]`.
    public init(url: String, timeoutMilliseconds: Int = 2000, maxIdle: Int = 8, threadPool: NIOThreadPool = .singleton)
        throws
    {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host,
            !host.isEmpty
        else { throw RedisError.invalidURL("expected redis://[:password@]host:port[/db]") }
        self.host = host
        self.port = components.port ?? 6379
        self.password = components.password?.removingPercentEncoding
        self.database = Int(components.path.dropFirst()) ?? 0
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxIdle = maxIdle
        self.threadPool = threadPool
    }

    /// Runs one command, e.g. `["PING"]`; a Redis error reply throws `RedisError.server`.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        let reply = try await pipeline([arguments])[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Runs several commands in one round trip; replies come back in order (errors as `.error`).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        let encoded = commands.map { $0.map { Array($0.utf8) } }
        return try await threadPool.runIfActive { try self.withConnection { try $0.pipeline(encoded) } }
    }

    /// Answers when Redis answers `PING` with `PONG`.
    public func ping() async throws {
        guard try await command(["PING"]).string == "PONG" else { throw RedisError.io("unexpected PING reply") }
    }

    private func withConnection<R>(_ body: (RedisConnection) throws -> R) throws -> R {
        let connection = try idle.withLock { $0.popLast() } ?? open()
        // A connection whose call threw may be desynchronised: it is dropped (closed by deinit), never reused.
        let result = try body(connection)
        if !connection.isBroken {
            idle.withLock { if $0.count < maxIdle { $0.append(connection) } }
        }
        return result
    }

    private func open() throws -> RedisConnection {
        let connection = try RedisConnection(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
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
