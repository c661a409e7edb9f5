import Synchronization

/// One Redis server: where a command is sent.
public struct RedisNode: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }

    /// Reads `host:port` as Redis writes it in `MOVED` and `ASK` errors (the host may be an IPv6
    /// address, so the port is what follows the last colon).
    init?(redirect text: Substring) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon > text.startIndex
        else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }
}

/// Redis Cluster's key space: which of the 16,384 hash slots a key belongs to, which node serves each
/// slot (learnt from `CLUSTER SLOTS` and corrected by `MOVED` redirects), and which argument of a
/// command is its key.
enum RedisCluster {
    static let slotCount = 16_384

    /// The slot of `key`: CRC16 (XMODEM) of the key, or of its hash tag, the part between the first
    /// `{` and the next `}` when that part is not empty, modulo 16,384.
    static func slot(of key: some Collection<UInt8>) -> Int {
        var hashed = Array(key)
        if let open = hashed.firstIndex(of: UInt8(ascii: "{")),
            let close = hashed[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            hashed = Array(hashed[(open + 1)..<close])
        }
        return Int(crc16(hashed)) % slotCount
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster specifies.
    static func crc16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    /// The key a command acts on, for the commands this product sends; nil for commands without one
    /// (`PING`), which any node answers.
    static func key(of command: [[UInt8]]) -> [UInt8]? {
        guard let name = command.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return nil }
        func argument(_ index: Int) -> [UInt8]? { command.indices.contains(index) ? command[index] : nil }
        switch name {
        case "PING", "INFO", "CLUSTER", "ASKING", "DBSIZE", "FLUSHALL", "FLUSHDB", "AUTH", "SELECT":
            return nil
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            return argument(2)
        case "EVAL", "EVALSHA":
            guard let count = argument(2).flatMap({ Int(String(decoding: $0, as: UTF8.self)) }), count > 0 else {
                return nil
            }
            return argument(3)
        case "XREAD", "XREADGROUP":
            guard
                let streams = command.firstIndex(where: {
                    String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS"
                })
            else { return nil }
            return argument(streams + 1)
        default:
            return argument(1)
        }
    }

    /// A redirect in an error reply: `MOVED <slot> <host:port>` or `ASK <slot> <host:port>`.
    enum Redirect: Equatable {
        case moved(slot: Int, to: RedisNode)
        case ask(slot: Int, to: RedisNode)

        init?(error message: String) {
            let parts = message.split(separator: " ")
            guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisCluster.slotCount).contains(slot),
                let node = RedisNode(redirect: parts[2])
            else { return nil }
            switch parts[0] {
            case "MOVED": self = .moved(slot: slot, to: node)
            case "ASK": self = .ask(slot: slot, to: node)
            default: return nil
            }
        }
    }

    /// Which node serves each slot. Empty until the first `CLUSTER SLOTS` answer.
    final class SlotMap: Sendable {
        private let owners = Mutex([RedisNode?](repeating: nil, count: RedisCluster.slotCount))
        private let stale = Atomic<Bool>(true)

        func node(for slot: Int) -> RedisNode? {
            owners.withLock { (0..<RedisCluster.slotCount).contains(slot) ? $0[slot] : nil }
        }

        /// Every node that serves a slot.
        var nodes: Set<RedisNode> { owners.withLock { Set($0.compactMap { $0 }) } }

        /// Whether the map should be read again before the next call (never read, or a redirect or a
        /// failed node since).
        var isStale: Bool { stale.load(ordering: .relaxed) }

        func markStale() { stale.store(true, ordering: .relaxed) }

        /// A `MOVED` says where one slot is now.
        func move(slot: Int, to node: RedisNode) {
            owners.withLock { if (0..<RedisCluster.slotCount).contains(slot) { $0[slot] = node } }
            stale.store(true, ordering: .relaxed)
        }

        /// Replaces the map with a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id], replicas...]...]`.
        /// Returns false (and keeps the map) for a reply of another shape.
        func update(from reply: RedisReply, fallbackHost: String) -> Bool {
            guard case .array(let ranges) = reply, !ranges.isEmpty else { return false }
            var fresh = [RedisNode?](repeating: nil, count: RedisCluster.slotCount)
            for range in ranges {
                guard case .array(let fields) = range, fields.count >= 3, case .integer(let start) = fields[0],
                    case .integer(let end) = fields[1], case .array(let master) = fields[2], master.count >= 2,
                    case .integer(let port) = master[1], (1...65535).contains(port),
                    0 <= start, start <= end, end < RedisCluster.slotCount
                else { return false }
                // An empty host means "the address you reached me on".
                let host = master[0].string.flatMap { $0.isEmpty ? nil : $0 } ?? fallbackHost
                for slot in start...end { fresh[slot] = RedisNode(host: host, port: port) }
            }
            owners.withLock { $0 = fresh }
            stale.store(false, ordering: .relaxed)
            return true
        }
    }
}
