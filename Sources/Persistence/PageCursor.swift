import Foundation

/// A position in a list ordered by (time, id) descending, handed out as `next_cursor`.
public struct PageCursor: Sendable, Equatable {
    public let time: Date
    public let id: String

    /// The range a cursor's time may take: the Unix epoch to the end of year 9999, in microseconds. It
    /// keeps every decoded time encodable by Postgres and by `Date` arithmetic.
    static let microsRange: ClosedRange<Int64> = 0...253_402_300_799_999_999

    public init(time: Date, id: String) {
        self.time = time
        self.id = id
    }

    /// The time in microseconds, clamped to `microsRange`. `Int64(exactly:)` answers nil instead of
    /// trapping for NaN, infinities and anything out of range, so no `Date` can stop the process here.
    var micros: Int64 {
        let value = (time.timeIntervalSince1970 * 1_000_000).rounded()
        guard let exact = Int64(exactly: value) else {
            return value > 0 ? Self.microsRange.upperBound : Self.microsRange.lowerBound
        }
        return min(max(exact, Self.microsRange.lowerBound), Self.microsRange.upperBound)
    }
}

extension Optional where Wrapped == PageCursor {
    /// The (time, id) pair a keyset query starts below: the cursor's position, or above every row.
    public func bound<ID>(parse: (String) -> ID?, top: ID) -> (time: Date, id: ID)? {
        guard let cursor = self else { return (.distantFuture, top) }
        guard let id = parse(cursor.id) else { return nil }
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
