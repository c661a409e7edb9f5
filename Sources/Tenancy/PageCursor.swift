import Foundation

/// An opaque position in a list ordered by (time, id) descending, handed out as `next_cursor`.
public struct PageCursor: Sendable, Equatable {
    public let time: Date
    public let id: String

    public init(time: Date, id: String) {
        self.time = time
        self.id = id
    }

    /// The base64url text handed to clients.
    public var encoded: String {
        let micros = Int64((time.timeIntervalSince1970 * 1_000_000).rounded())
        return Base64URL.encode(Data("\(micros)|\(id)".utf8))
    }

    /// Parses a cursor a client sent back; nil when it is not one this server made.
    public init?(encoded: String) {
        guard let data = Base64URL.decode(Substring(encoded)), let text = String(data: data, encoding: .utf8),
            let bar = text.firstIndex(of: "|"), let micros = Int64(text[..<bar])
        else { return nil }
        let id = String(text[text.index(after: bar)...])
        guard !id.isEmpty, id.count <= 64 else { return nil }
        self.time = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}

extension Optional where Wrapped == PageCursor {
    /// The (time, uuid) pair a keyset query starts below: the cursor's position, or above every row.
    public var uuidBound: (time: Date, id: UUID) {
        guard let cursor = self, let id = UUID(uuidString: cursor.id) else {
            return (self?.time ?? .distantFuture, UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        }
        return (cursor.time, id)
    }
}

/// A page of a list and the cursor of the next one (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let nextCursor: PageCursor?

    public init(items: [Item], nextCursor: PageCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that another page exists.
    public init(fetched: [Item], limit: Int, cursor: (Item) -> PageCursor) {
        if fetched.count > limit {
            let items = Array(fetched.prefix(limit))
            self.init(items: items, nextCursor: items.last.map(cursor))
        } else {
            self.init(items: fetched, nextCursor: nil)
        }
    }
}
