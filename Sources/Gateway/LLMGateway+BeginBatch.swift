import Billing
import Foundation
import Persistence
import PostgresNIO

extension LLMGateway {
    /// Begins a tenant's concurrent calls together: a batch of one is `llm_call_begin` itself (nothing
    /// added to a lone call's latency), a larger one `llm_call_begin_batch` (one transaction, one durable
    /// commit, each call decided in arrival order in its own subtransaction).
    static func beginBatcher(_ database: Database) -> TenantBatcher<BeginStatement, BeginRow> {
        TenantBatcher(limit: 64) { tenant, calls in
            if calls.count == 1 {
                let rows = try await database.execute(calls[0], for: tenant, logger: database.logger)
                return [rows.first.map { .success($0) } ?? .failure(BudgetNotFound())]
            }
            let rows = try await database.execute(
                BeginBatchStatement(calls: calls), for: tenant, logger: database.logger)
            // A call the function answered nothing for had no budget row (as `llm_call_begin` alone).
            var results = [Result<BeginRow, any Error>](repeating: .failure(BudgetNotFound()), count: calls.count)
            for (ordinal, result) in rows where calls.indices.contains(ordinal - 1) { results[ordinal - 1] = result }
            return results
        }
    }
}

/// A call of a batch that failed in its own subtransaction (nothing of it was kept).
struct BatchedBeginFailed: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the call could not begin: \(reason)" }
}

/// `llm_call_begin_batch`, prepared once per connection: the calls' parameters as arrays, in order.
struct BeginBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT ordinal, outcome, under_pressure, hour_hits, hour_resets_in, tokens, period, period_start, period_end,
               token_limit, used, reserved, error
        FROM llm_call_begin_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """
    typealias Row = (Int, Result<BeginRow, any Error>)
    let calls: [BeginStatement]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(calls.map(\.tenantID.rawValue))
        bindings.append(calls.map(\.policyVersion))
        bindings.append(calls.map(\.credentialsDigest))
        bindings.append(calls.map { ByteBuffer(data: $0.hourSubject) })
        bindings.append(calls.map(\.hourSeconds))
        bindings.append(calls.map(\.hourLimit))
        bindings.append(calls.map { $0.pressurePercent ?? -1 })
        bindings.append(calls.map(\.reservation))
        bindings.append(calls.map(\.tokens))
        bindings.append(calls.map(\.pressureTokens))
        bindings.append(calls.map(\.minimum))
        bindings.append(calls.map(\.ttlSeconds))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let c = try row.decode(
            (Int, String, Bool, Int, Double, Int64, String?, Date?, Date?, Int64?, Int64?, Int64?, String?).self)
        if c.1 == "error" { return (c.0, .failure(BatchedBeginFailed(reason: c.12 ?? "unknown"))) }
        return (
            c.0,
            .success(
                BeginRow(
                    outcome: c.1, underPressure: c.2, hourHits: c.3, hourResetsIn: c.4, tokens: c.5, period: c.6,
                    periodStart: c.7, periodEnd: c.8, tokenLimit: c.9, used: c.10, reserved: c.11))
        )
    }
}
