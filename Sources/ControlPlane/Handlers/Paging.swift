import Edge
import Persistence

/// `?limit=` and `?cursor=` of every list: limits checked, cursors sealed for (and only valid in) the
/// list that handed them out.
struct Paging: Sendable {
    let sealer: CursorSealer
    let database: Database
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

    /// One page of a tenant's `list`: the limit and cursor checked, `read` run in the tenant's transaction
    /// with them, and the page's `next_cursor` sealed for the same list.
    func page<Item: Sendable>(
        of list: String, limit: Int?, cursor: String?, tenant tenantID: TenantID,
        _ read: (_ limit: Int, _ after: PageCursor?, _ transaction: TenantTransaction) async throws -> Page<Item>
    ) async throws -> (items: [Item], nextCursor: String?) {
        let (limit, cursor) = try request(limit: limit, cursor: cursor, list: list)
        let page = try await database.withTenant(tenantID) { try await read(limit, cursor, $0) }
        return (page.items, next(page, list: list))
    }

    /// The `next_cursor` text of a page of `list`.
    func next(_ page: Page<some Sendable>, list: String) -> String? {
        page.nextCursor.map { sealer.seal($0, list: list) }
    }
}
