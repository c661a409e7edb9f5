import Edge
import Persistence

/// `?limit=` and `?cursor=` of every list: limits checked, cursors sealed for (and only valid in) the
/// list that handed them out.
struct Paging: Sendable {
    let sealer: CursorSealer
    static let defaultLimit = 50
    static let limits = 1...100

    /// The validated page size and position; a cursor that is not this list's answers 400.
    func request(limit: Int?, cursor: String?, list: String) throws -> (limit: Int, cursor: PageCursor?) {
        let limit = limit ?? Self.defaultLimit
        guard Self.limits.contains(limit) else { throw APIError.invalid("limit must be between 1 and 100.") }
        guard let cursor else { return (limit, nil) }
        guard let opened = sealer.open(cursor, list: list) else {
            throw APIError.invalid("cursor is not a cursor of this list.")
        }
        return (limit, opened)
    }

    /// The `next_cursor` text of a page of `list`.
    func next(_ page: Page<some Sendable>, list: String) -> String? {
        page.nextCursor.map { sealer.seal($0, list: list) }
    }
}
