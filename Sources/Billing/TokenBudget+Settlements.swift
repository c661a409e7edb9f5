import Foundation
import Persistence
import PostgresNIO

extension TokenBudget {
    /// Records a tenant's concurrent settlements together: a batch of one is `budget_record_usage` itself
    /// (nothing added to a lone call's latency), a larger one `budget_record_usage_batch` (one transaction,
    /// one durable commit, each entry in arrival order in its own subtransaction).
    static func settlementBatcher(_ database: Database) -> TenantBatcher<RecordUsageStatement, Int64> {
        TenantBatcher(limit: 64) { tenant, entries in
            if entries.count == 1 {
                let ids = try await database.execute(entries[0], for: tenant, logger: database.logger)
                return [.success(ids.first ?? 0)]
            }
            let rows = try await database.execute(
                RecordUsageBatchStatement(entries: entries), for: tenant, logger: database.logger)
            var results = [Result<Int64, any Error>](
                repeating: .failure(SettlementFailed(reason: "no answer")), count: entries.count)
            for (ordinal, result) in rows where entries.indices.contains(ordinal - 1) { results[ordinal - 1] = result }
            return results
        }
    }
}

/// A settlement of a batch that failed in its own subtransaction (nothing of it was written).
public struct SettlementFailed: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "the usage could not be recorded: \(reason)" }
}

/// `budget_record_usage_batch`, prepared once per connection: the entries as arrays, in order; absent
/// values as the nil UUID and the empty string.
struct RecordUsageBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT ordinal, record_id, error
        FROM budget_record_usage_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """
    typealias Row = (Int, Result<Int64, any Error>)
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

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (ordinal, id, error) = try row.decode((Int, Int64?, String?).self)
        if let id, error == nil { return (ordinal, .success(id)) }
        return (ordinal, .failure(SettlementFailed(reason: error ?? "no ledger row")))
    }
}
