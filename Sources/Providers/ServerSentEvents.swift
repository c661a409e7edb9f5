import NIOCore

/// Splits a `text/event-stream` body into events (`event:` and the joined `data:` lines), as the bytes
/// arrive in whatever chunks.
public struct ServerSentEvents: Sendable {
    public struct Event: Sendable, Equatable {
        public var name: String
        public var data: String
    }

    private var buffer: [UInt8] = []
    /// How far `buffer` is known to hold no event boundary, so each byte is scanned about once however
    /// small the chunks (a slow trickle of a large event must not cost time quadratic in its size).
    private var scanned = 0
    /// A single event larger than this is refused (a provider gone wrong must not fill memory).
    static let maxEventBytes = 4 << 20

    public init() {}

    /// Adds bytes; answers the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var consumed = 0
        var from = max(0, scanned - 3)
        while let end = Self.boundary(in: buffer, from: from) {
            if let event = Self.parse(buffer[consumed..<end.start]) { events.append(event) }
            consumed = end.end
            from = consumed
        }
        buffer.removeSubrange(..<consumed)
        scanned = buffer.count
        if buffer.count > Self.maxEventBytes { throw Oversized() }
        return events
    }

    /// The event left when the stream ends without a blank line.
    public mutating func finish() -> Event? {
        defer {
            buffer.removeAll()
            scanned = 0
        }
        return Self.parse(buffer[...])
    }

    struct Oversized: Error {}

    private static func boundary(in bytes: [UInt8], from start: Int) -> (start: Int, end: Int)? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 10, bytes[index + 1] == 10 { return (index, index + 2) }
            if bytes[index] == 13, index + 3 < bytes.count, bytes[index + 1] == 10, bytes[index + 2] == 13,
                bytes[index + 3] == 10
            {
                return (index, index + 4)
            }
            index += 1
        }
        return nil
    }

    private static func parse(_ block: ArraySlice<UInt8>) -> Event? {
        var name = "message"
        var data: [String] = []
        for rawLine in String(decoding: block, as: UTF8.self).split(
            omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        {
            let line = String(rawLine)
            if line.hasPrefix(":") { continue }
            let field: String
            var value: String
            if let colon = line.firstIndex(of: ":") {
                field = String(line[..<colon])
                value = String(line[line.index(after: colon)...])
                if value.hasPrefix(" ") { value.removeFirst() }
            } else {
                field = line
                value = ""
            }
            switch field {
            case "event": name = value
            case "data": data.append(value)
            default: break
            }
        }
        guard !data.isEmpty else { return nil }
        return Event(name: name, data: data.joined(separator: "\n"))
    }
}
