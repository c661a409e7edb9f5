import BlockingWork
import Foundation
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small pool of blocking hiredis connections whose calls run on threads of the client's own, never
/// on an event loop and never on threads other blocking work (password hashing) uses. Each call may
/// set its own timeout (a queue's long blocking read needs more than a `PING`); a connection that fails
/// is discarded and the next call opens a new one. A `Service`: its threads stop with the application.
///
/// With a `redis-cluster://` URL it speaks to a Redis Cluster: each command goes to the master that
/// serves its key's hash slot (learnt from `CLUSTER SLOTS`), a pipeline is split per node and its
/// replies put back in order, and `MOVED` and `ASK` redirects are followed (at most five per command).
public final class RedisClient: Service, Sendable {
    public let host: String
    public let port: Int
    /// Whether the URL named a Redis Cluster (`redis-cluster://`).
    public let isCluster: Bool
    private let password: String?
    private let database: Int
    /// The timeout of calls that name none.
    public let defaultTimeout: Duration
    private let maxIdle: Int
    private let idle = Mutex([RedisNode: [RedisConnection]]())
    private let slots = RedisCluster.SlotMap()
    private let threadPool: BlockingWorkPool

    /// A client for `redis://[:password@]host[:port][/db]`, or for a cluster that `host:port` belongs to
    /// with `redis-cluster://[:password@]host[:port]`, with `threads` threads for its calls.
    public init(url: String, defaultTimeout: Duration = .seconds(2), threads: Int = 4, maxIdle: Int = 8) throws {
        guard let components = URLComponents(string: url),
            components.scheme == "redis" || components.scheme == "redis-cluster",
            let host = components.host, !host.isEmpty
        else {
            throw RedisError.invalidURL(
                "expected redis://[:password@]host:port[/db] or redis-cluster://[:password@]host:port")
        }
        self.host = host
        self.port = components.port ?? 6379
        self.isCluster = components.scheme == "redis-cluster"
        self.password = components.password?.removingPercentEncoding
        self.database = Int(components.path.dropFirst()) ?? 0
        guard !isCluster || database == 0 else { throw RedisError.invalidURL("a Redis Cluster has only database 0") }
        self.defaultTimeout = defaultTimeout
        self.maxIdle = maxIdle
        self.threadPool = BlockingWorkPool(threads: threads)
    }

    private var seed: RedisNode { RedisNode(host: host, port: port) }

    /// The Redis Cluster hash slot of `key` (what `CLUSTER KEYSLOT` answers).
    public static func hashSlot(of key: String) -> Int { RedisCluster.slot(of: Array(key.utf8)) }

    /// Runs one command, e.g. `["PING"]`; a Redis error reply throws `RedisError.server`.
    @discardableResult
    public func command(_ arguments: [String], timeout: Duration? = nil) async throws -> RedisReply {
        let reply = try await pipeline([arguments], timeout: timeout)[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Runs several commands in one round trip (one per node on a cluster); replies come back in order
    /// (errors as `.error`). On a cluster the nodes are asked one after another in no set order, so a
    /// command may run before an earlier one on another node: `pipeline(phases:)` keeps that order.
    public func pipeline(_ commands: [[String]], timeout: Duration? = nil) async throws -> [RedisReply] {
        try await pipeline(phases: [commands], timeout: timeout)
    }

    /// Runs `phases` of commands so that none runs before every command of the phases before it: on one
    /// server in one round trip (a connection runs its commands in order), on a cluster a phase at a time
    /// (each one round trip per node). Replies come back in order, as one list.
    public func pipeline(phases: [[[String]]], timeout: Duration? = nil) async throws -> [RedisReply] {
        let encoded = phases.map { $0.map { $0.map { Array($0.utf8) } } }
        let timeout = timeout ?? defaultTimeout
        return try await threadPool.run {
            guard self.isCluster else {
                return try self.withConnection(to: self.seed, timeout: timeout) {
                    try $0.pipeline(encoded.flatMap { $0 })
                }
            }
            var replies: [RedisReply] = []
            for phase in encoded where !phase.isEmpty { replies += try self.clusterPipeline(phase, timeout: timeout) }
            return replies
        }
    }

    /// Answers when Redis answers `PING` with `PONG`.
    public func ping() async throws {
        guard try await command(["PING"]).string == "PONG" else { throw RedisError.io("unexpected PING reply") }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await threadPool.shutdown()
        idle.withLock { $0.removeAll() }
    }

    private func withConnection<R>(to node: RedisNode, timeout: Duration, _ body: (RedisConnection) throws -> R)
        throws -> R
    {
        let connection = try idle.withLock { $0[node]?.popLast() } ?? open(node, timeout: timeout)
        try connection.setTimeout(timeout)
        // A connection whose call threw may be desynchronised: it is dropped (closed by deinit), never reused.
        let result = try body(connection)
        if !connection.isBroken {
            idle.withLock { pools in
                if pools[node, default: []].count < maxIdle { pools[node, default: []].append(connection) }
            }
        }
        return result
    }

    private func open(_ node: RedisNode, timeout: Duration) throws -> RedisConnection {
        let connection = try RedisConnection(host: node.host, port: node.port, timeout: timeout)
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

    // MARK: Redis Cluster

    /// Sends each command to the node that serves its slot, one pipeline per node, following redirects.
    private func clusterPipeline(_ commands: [[[UInt8]]], timeout: Duration) throws -> [RedisReply] {
        if slots.isStale { refreshSlots(timeout: timeout) }
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        // Each command still to answer, the node to ask, and whether it follows an `ASK` redirect.
        var pending = commands.indices.map { index in (index: index, node: route(commands[index]), asking: false) }
        for _ in 0...5 where !pending.isEmpty {
            var next: [(index: Int, node: RedisNode, asking: Bool)] = []
            for (node, group) in Dictionary(grouping: pending, by: { $0.node }) {
                // An `ASK` redirect holds for the one command that follows `ASKING` on the same connection.
                var batch: [[[UInt8]]] = []
                for item in group {
                    if item.asking { batch.append([Array("ASKING".utf8)]) }
                    batch.append(commands[item.index])
                }
                let answers: [RedisReply]
                do {
                    answers = try withConnection(to: node, timeout: timeout) { try $0.pipeline(batch) }
                } catch {
                    // The node may have failed over: learn the map again before the next call.
                    slots.markStale()
                    throw error
                }
                var position = 0
                for item in group {
                    if item.asking { position += 1 }
                    guard answers.indices.contains(position) else { throw RedisError.io("a reply is missing") }
                    let answer = answers[position]
                    position += 1
                    if case .error(let message) = answer, let redirect = RedisCluster.Redirect(error: message) {
                        switch redirect {
                        case .moved(let slot, let target):
                            slots.move(slot: slot, to: target)
                            next.append((item.index, target, false))
                        case .ask(_, let target):
                            next.append((item.index, target, true))
                        }
                    } else {
                        replies[item.index] = answer
                    }
                }
            }
            pending = next
        }
        if slots.isStale { refreshSlots(timeout: timeout) }
        return replies.map { $0 ?? .error("TOOMANYREDIRECTS a command was redirected more than five times") }
    }

    /// The node that serves a command's key, or, for a command without one (or before the map is
    /// known), the first node that answered.
    private func route(_ command: [[UInt8]]) -> RedisNode {
        guard let key = RedisCluster.key(of: command), let node = slots.node(for: RedisCluster.slot(of: key)) else {
            return slots.nodes.sorted { $0.description < $1.description }.first ?? seed
        }
        return node
    }

    /// Reads `CLUSTER SLOTS` from the seed or any node known so far; keeps the old map if none answers.
    private func refreshSlots(timeout: Duration) {
        for node in [seed] + slots.nodes.sorted(by: { $0.description < $1.description }) {
            let reply = try? withConnection(to: node, timeout: timeout) {
                try $0.pipeline([[Array("CLUSTER".utf8), Array("SLOTS".utf8)]])
            }
            if let reply = reply?.first, slots.update(from: reply, fallbackHost: node.host) { return }
        }
    }
}
