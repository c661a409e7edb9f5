import Foundation
import Persistence
import PostgresNIO

extension TokenBudget {
    /// Records a tenant's concurrent settlements together: a batch of one is `budget_record_usage` itself
    /// (nothing added to a lone call's latency), a larger one `budget_record_usage_batch` (one transaction,
    /// one durable commit, each entry in arrival order). When Postgres refuses the batch (an entry in it
    /// failed, and took the others' work with it), each entry is recorded alone, so only the failing one
    /// fails.
    static func settlementBatcher(_ database: Database) -> TenantBatcher<RecordUsageStatement, Int64> {
        TenantBatcher(limit: 64, retriesAlone: Database.refusedByServer) { tenant, entry in
            try await database.execute(entry, for: tenant, logger: database.logger).first ?? 0
        } many: { tenant, entries in
            let rows = try await database.execute(
                RecordUsageBatchStatement(entries: entries), for: tenant, logger: database.logger)
            var ids = [Int64](repeating: 0, count: entries.count)
            for (ordinal, id) in rows where entries.indices.contains(ordinal - 1) { ids[ordinal - 1] = id }
            return ids
        }
    }
}

/// `budget_record_usage_batch`, prepared once per connection: the entries as arrays, in order; absent
/// values as the nil UUID and the empty string.
struct RecordUsageBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT ordinal, record_id
        FROM budget_record_usage_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """
    typealias Row = (Int, Int64)
    static let none = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    let entries: [RecordUsageStatement]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(entries.map(\.tenantID.rawValue))
        bindings.append(entries.map { $0.reservation ?? Self.none })
        bindings.append(entries.map(\.release))
        bindings.append(entries.map { $0.usage.requestID ?? "" })
        bindings.append(entries.map { $0.usage.jobID ?? Self.none })
        bindings.append(entries.map(\.usage.kind))
        bindings.append(entries.map(\.usage.provider))
        bindings.append(entries.map(\.usage.model))
        bindings.append(entries.map(\.usage.promptTokens))
        bindings.append(entries.map(\.usage.completionTokens))
        bindings.append(entries.map(\.usage.reasoningTokens))
        bindings.append(entries.map(\.usage.totalTokens))
        bindings.append(entries.map(\.usage.cached))
        bindings.append(entries.map(\.usage.costMicros))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int, Int64).self) }
}
