import Foundation
import PostgresNIO

/// The one shape of every list query: rows matching equality filters, ordered by (time, id) descending,
/// starting strictly below a cursor's position, `limit + 1` rows so the page knows whether more follow.
/// Column and table names are constants of the repositories; every value is a bind parameter.
public struct KeysetQuery: Sendable {
    public let table: String
    public let columns: String
    public let timeColumn: String
    public let idColumn: String
    /// A fixed SQL condition every row of the list meets (no values), e.g. "not revoked".
    public let condition: String?

    public init(table: String, columns: String, timeColumn: String, idColumn: String, condition: String? = nil) {
        self.table = table
        self.columns = columns
        self.timeColumn = timeColumn
        self.idColumn = idColumn
        self.condition = condition
    }

    /// The statement for one page below `bound`, keeping rows where each filter column equals its value.
    public func page<ID: PostgresEncodable>(
        filters: [(column: String, value: any PostgresEncodable)], below bound: (time: Date, id: ID), limit: Int
    ) throws -> PostgresQuery {
        var bindings = PostgresBindings()
        var conditions: [String] = condition.map { [$0] } ?? []
        for filter in filters {
            try bindings.append(filter.value, context: .default)
            conditions.append("\(filter.column) = $\(bindings.count)")
        }
        bindings.append(bound.time, context: .default)
        try bindings.append(bound.id, context: .default)
        conditions.append("(\(timeColumn), \(idColumn)) < ($\(bindings.count - 1), $\(bindings.count))")
        bindings.append(limit + 1, context: .default)
        let sql = """
            SELECT \(columns) FROM \(table) WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(timeColumn) DESC, \(idColumn) DESC LIMIT $\(bindings.count)
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
