import Billing
import Foundation
import Persistence
import PostgresNIO

extension LLMGateway {
    /// Begins a tenant's concurrent calls together: a batch of one is `llm_call_begin` itself (nothing
    /// added to a lone call's latency), a larger one `llm_call_begin_batch` (one transaction, one durable
    /// commit, each call decided in arrival order). When Postgres refuses the batch (a call in it failed,
    /// and took the others' work with it), each call begins alone, so only the failing one fails. A batch
    /// in which a tenant has no budget row fails each of its calls with `BudgetNotFound`, as alone.
    static func beginBatcher(_ database: Database) -> TenantBatcher<BeginStatement, BeginRow> {
        TenantBatcher(limit: 64, retriesAlone: Database.refusedByServer) { tenant, call in
            let rows = try await database.execute(call, for: tenant, logger: database.logger)
            guard let row = rows.first else { throw BudgetNotFound() }
            return row
        } many: { tenant, calls in
            let rows = try await database.execute(
                BeginBatchStatement(calls: calls), for: tenant, logger: database.logger)
            // A call the function answered nothing for had no budget row (as `llm_call_begin` alone).
            var found = [BeginRow?](repeating: nil, count: calls.count)
            for (ordinal, row) in rows where calls.indices.contains(ordinal - 1) { found[ordinal - 1] = row }
            guard found.allSatisfy({ $0 != nil }) else { throw BudgetNotFound() }
            return found.compactMap { $0 }
        }
    }
}

/// `llm_call_begin_batch`, prepared once per connection: the calls' parameters as arrays, in order.
struct BeginBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT \(BeginRow.columns), ordinal
        FROM llm_call_begin_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """
    typealias Row = (Int, BeginRow)
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
        (try row.makeRandomAccess()["ordinal"].decode(Int.self), try BeginRow(row))
    }
}
