import Foundation
import HummingbirdTesting
import RedisClient
import Testing

/// The Redis client on a Redis Cluster: slots as Redis computes them, pipelines split across masters
/// and answered in order, `ASK` and `MOVED` followed while a slot migrates (on the cluster
/// `scripts/test` starts, `CP_REDIS_CLUSTER_URL`); and a master killed mid-ingest on a cluster of the
/// test's own, after which no accepted delivery is lost.
@Suite(.timeLimit(.minutes(3))) struct RedisClusterTests {
    static let clusterURL = ProcessInfo.processInfo.environment["CP_REDIS_CLUSTER_URL"]

    @Test func slotsAreTheOnesRedisComputes() async throws {
        // The CRC16 (XMODEM) check value of "123456789" is 0x31C3.
        #expect(RedisClient.hashSlot(of: "123456789") == 0x31C3)
        #expect(RedisClient.hashSlot(of: "{user1000}.following") == RedisClient.hashSlot(of: "user1000"))
        #expect(RedisClient.hashSlot(of: "foo{}{bar}") != RedisClient.hashSlot(of: "bar"), "an empty tag is no tag")
        #expect(RedisClient.hashSlot(of: "cp:{t:x}:jobs") == RedisClient.hashSlot(of: "t:x"))
        guard let url = Self.clusterURL else { return }
        let redis = try RedisClient(url: url)
        let keys =
            (0..<100).map { "key-\($0)-\(UUID().uuidString)" } + [
                "", "{", "}", "{}", "a{b}c", "a{}b{c}", "{{x}}", "é{ü}", "cp:{t:\(UUID())}:jobs", "cp:ready",
            ]
        for key in keys {
            #expect(try await redis.command(["CLUSTER", "KEYSLOT", key]) == .integer(RedisClient.hashSlot(of: key)))
        }
    }

    @Test(.enabled(if: clusterURL != nil)) func aPipelineAcrossMastersAnswersInOrder() async throws {
        let url = try #require(Self.clusterURL)
        let redis = try RedisClient(url: url)
        let run = UUID().uuidString
        let keys = (0..<60).map { "pipe-\(run)-\($0)" }
        var commands = keys.enumerated().map { ["SET", $0.element, "v\($0.offset)"] }
        commands += keys.map { ["GET", $0] }
        commands.append(["PING"])
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == commands.count)
        for (index, reply) in replies.prefix(keys.count).enumerated() {
            #expect(reply == .status("OK"), "SET \(index): \(reply)")
        }
        for (index, reply) in replies.dropFirst(keys.count).prefix(keys.count).enumerated() {
            #expect(reply.string == "v\(index)", "GET \(index): \(reply)")
        }
        #expect(replies.last == .status("PONG"))
        // The keys are spread over every master: each one alone refuses the keys it does not serve.
        let nodes = try await Self.masters(url)
        #expect(nodes.count == 3)
        var served = 0
        for node in nodes {
            let single = try RedisClient(url: node.url)
            for key in keys {
                if case .bulk = try await single.pipeline([["GET", key]])[0] { served += 1 }
            }
        }
        #expect(served == keys.count, "each key is on exactly one master")
        _ = try await redis.pipeline(keys.map { ["DEL", $0] })
    }

    /// A later phase runs only after every command of the ones before it, on whichever master: each
    /// phase reads its master's clock in a script, and the clocks (one machine's) never go backwards from
    /// phase to phase. One pipeline of the same commands asks the masters in no set order.
    @Test(.enabled(if: clusterURL != nil)) func phasesRunInOrderAcrossMasters() async throws {
        let url = try #require(Self.clusterURL)
        let redis = try RedisClient(url: url)
        let masters = try await Self.masters(url)
        let master = { (key: String) in
            masters.firstIndex { $0.slots.contains { $0.contains(RedisClient.hashSlot(of: key)) } }
        }
        let first = "order-\(UUID())"
        let second = try #require(
            (0..<1000).lazy.map { "order-\($0)-\(UUID())" }.first { master($0) != master(first) })
        let clock = "local t = redis.call('TIME') return t[1] * 1000000 + t[2]"
        func micros(_ reply: RedisReply) -> Int { if case .integer(let value) = reply { value } else { -1 } }
        for round in 0..<30 {
            let replies = try await redis.pipeline(
                phases: [[["EVAL", clock, "1", first]], [["EVAL", clock, "1", second]]])
            #expect(replies.count == 2)
            #expect(micros(replies[0]) > 0 && micros(replies[1]) >= micros(replies[0]), "round \(round): \(replies)")
        }
    }

    @Test(.enabled(if: clusterURL != nil)) func aMigratingSlotIsFollowedThroughAskAndMoved() async throws {
        let url = try #require(Self.clusterURL)
        let redis = try RedisClient(url: url)
        let tag = "{mig-\(UUID().uuidString)}"
        let (old, new) = ("\(tag):old", "\(tag):new")
        let slot = RedisClient.hashSlot(of: old)
        try await redis.command(["SET", old, "before"])
        let nodes = try await Self.masters(url)
        let source = try #require(nodes.first { $0.slots.contains(slot) })
        let target = try #require(nodes.first { $0.id != source.id })
        let sourceClient = try RedisClient(url: source.url)
        let targetClient = try RedisClient(url: target.url)

        try await targetClient.command(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", source.id])
        try await sourceClient.command(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", target.id])
        // While the slot migrates, a key the source no longer has is asked of the target (ASK).
        try await redis.command(["SET", new, "during"])
        #expect(try await targetClient.pipeline([["ASKING"], ["GET", new]])[1].string == "during")
        #expect(try await redis.command(["GET", new]).string == "during")
        #expect(try await redis.command(["GET", old]).string == "before")

        // The remaining keys move, the slot is the target's, and the client learns it from MOVED.
        let password = URLComponents(string: url)?.password ?? ""
        while case .array(let keys) = try await sourceClient.command(["CLUSTER", "GETKEYSINSLOT", "\(slot)", "100"]),
            !keys.isEmpty
        {
            let names = keys.compactMap(\.string)
            try await sourceClient.command(
                ["MIGRATE", target.host, "\(target.port)", "", "0", "5000", "AUTH", password, "KEYS"] + names)
        }
        for node in nodes {
            try await RedisClient(url: node.url).command(["CLUSTER", "SETSLOT", "\(slot)", "NODE", target.id])
        }
        #expect(try await redis.command(["GET", old]).string == "before")
        #expect(try await redis.command(["GET", new]).string == "during")
        guard case .error(let moved) = try await sourceClient.pipeline([["GET", old]])[0] else {
            Issue.record("the source still answers for the slot")
            return
        }
        #expect(moved.hasPrefix("MOVED \(slot) "))
        try await redis.command(["DEL", old])
        try await redis.command(["DEL", new])
    }

    /// A master of the cluster, as `CLUSTER NODES` describes it.
    struct Master: Sendable {
        let id: String
        let host: String
        let port: Int
        let slots: [ClosedRange<Int>]
        let url: String
    }

    static func masters(_ url: String) async throws -> [Master] {
        let redis = try RedisClient(url: url)
        let text = try await redis.command(["CLUSTER", "NODES"]).string ?? ""
        let password = URLComponents(string: url)?.password
        return text.split(separator: "\n").compactMap { line -> Master? in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 8, fields[2].contains("master"),
                let address = fields[1].split(separator: "@").first, let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            else { return nil }
            let host = String(address[..<colon])
            let slots = fields.dropFirst(8).compactMap { field -> ClosedRange<Int>? in
                let bounds = field.split(separator: "-").compactMap { Int($0) }
                guard let low = bounds.first, let high = bounds.last, low <= high else { return nil }
                return low...high
            }
            let auth = password.map { ":\($0)@" } ?? ""
            return Master(id: fields[0], host: host, port: port, slots: slots, url: "redis://\(auth)\(host):\(port)")
        }
    }
}

extension Array where Element == ClosedRange<Int> {
    func contains(_ value: Int) -> Bool { contains { $0.contains(value) } }
}
