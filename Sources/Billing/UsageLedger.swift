import Foundation
import Persistence
import PostgresNIO

/// Reads the append-only usage ledger: totals by day, provider and model (ledger rows past retention
/// count through the daily totals they were folded into), and the reconciliation of budget counters
/// against it. Rows are written only through `TokenBudget.record`.
public struct UsageLedger: Sendable {
    public init() {}

    /// One day's totals for one provider and model.
    public struct Total: Sendable, Equatable {
        /// `YYYY-MM-DD`.
        public let day: String
        public let provider: String
        public let model: String
        public let calls: Int64
        public let promptTokens: Int64
        public let completionTokens: Int64
        public let reasoningTokens: Int64
        public let totalTokens: Int64
        public let cachedCalls: Int64
        public let costMicros: Int64
    }

    /// One budget period whose counters disagree with the ledger or with its open reservations.
    public struct Discrepancy: Sendable, Equatable {
        public let tenantID: TenantID
        public let period: String
        public let periodStart: Date
        public let used: Int64
        public let ledgerTokens: Int64
        public let reserved: Int64
        public let openReservations: Int64
    }

    /// The transaction's tenant's totals for days `from...to` (the tenant's own days).
    public func totals(from: String, to: String, in transaction: TenantTransaction) async throws -> [Total] {
        try await Self.decode(
            try await transaction.query(
                """
                SELECT \(unescaped: Self.aggregate)
                FROM (
                    SELECT \(unescaped: Self.detail) FROM usage_records
                    WHERE tenant_id = \(transaction.tenantID.rawValue)
                      AND usage_day BETWEEN \(from)::date AND \(to)::date
                    GROUP BY usage_day, provider, model
                    UNION ALL
                    SELECT \(unescaped: Self.folded) FROM usage_daily
                    WHERE tenant_id = \(transaction.tenantID.rawValue)
                      AND usage_day BETWEEN \(from)::date AND \(to)::date
                ) rows
                GROUP BY usage_day, provider, model ORDER BY usage_day, provider, model
                """))
    }

    /// Totals across tenants (or for one), by each tenant's own day, in an operator transaction.
    public func platformTotals(from: String, to: String, tenantID: TenantID?, on connection: PostgresConnection)
        async throws -> [Total]
    {
        try await Self.decode(
            try await connection.statement(
                """
                SELECT \(unescaped: Self.aggregate)
                FROM (
                    SELECT \(unescaped: Self.detail) FROM usage_records
                    WHERE usage_day BETWEEN \(from)::date AND \(to)::date
                      AND (\(tenantID?.rawValue)::uuid IS NULL OR tenant_id = \(tenantID?.rawValue))
                    GROUP BY usage_day, provider, model
                    UNION ALL
                    SELECT \(unescaped: Self.folded) FROM usage_daily
                    WHERE usage_day BETWEEN \(from)::date AND \(to)::date
                      AND (\(tenantID?.rawValue)::uuid IS NULL OR tenant_id = \(tenantID?.rawValue))
                ) rows
                GROUP BY usage_day, provider, model ORDER BY usage_day, provider, model
                """, logger: connection.logger))
    }

    /// The periods of the transaction's tenant whose counters disagree with the ledger or the open
    /// reservations; empty when everything reconciles.
    public func discrepancies(in transaction: TenantTransaction) async throws -> [Discrepancy] {
        let rows = try await transaction.query(
            """
            SELECT tenant_id, period, period_start, used, ledger_tokens, reserved, open_reservations
            FROM budget_reconciliation
            WHERE tenant_id = \(transaction.tenantID.rawValue)
              AND (used <> ledger_tokens OR reserved <> open_reservations)
            """)
        var found: [Discrepancy] = []
        for try await (tenant, period, start, used, ledger, reserved, open) in rows.decode(
            (UUID, String, Date, Int64, Int64, Int64, Int64).self)
        {
            found.append(
                Discrepancy(
                    tenantID: TenantID(tenant), period: period, periodStart: start, used: used, ledgerTokens: ledger,
                    reserved: reserved, openReservations: open))
        }
        return found
    }

    /// The ledger's own rows, summed per day, provider and model.
    static let detail = """
        usage_day, provider, model, count(*)::bigint AS calls, sum(prompt_tokens) AS prompt_tokens,
        sum(completion_tokens) AS completion_tokens, sum(reasoning_tokens) AS reasoning_tokens,
        sum(total_tokens) AS total_tokens, count(*) FILTER (WHERE cached)::bigint AS cached_calls,
        sum(cost_micros) AS cost_micros
        """

    /// The daily totals that pruned ledger rows were folded into (`usage_daily`), in the same shape.
    static let folded = """
        usage_day, provider, model, calls, prompt_tokens, completion_tokens, reasoning_tokens, total_tokens,
        CASE WHEN cached THEN calls ELSE 0 END, cost_micros
        """

    /// Both kinds of rows, summed again.
    static let aggregate = """
        to_char(usage_day, 'YYYY-MM-DD'), provider, model, sum(calls)::bigint,
        COALESCE(sum(prompt_tokens), 0)::bigint, COALESCE(sum(completion_tokens), 0)::bigint,
        COALESCE(sum(reasoning_tokens), 0)::bigint, COALESCE(sum(total_tokens), 0)::bigint,
        sum(cached_calls)::bigint, COALESCE(sum(cost_micros), 0)::bigint
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Total] {
        var totals: [Total] = []
        for try await row in rows.decode((String, String, String, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
        {
            totals.append(
                Total(
                    day: row.0, provider: row.1, model: row.2, calls: row.3, promptTokens: row.4,
                    completionTokens: row.5, reasoningTokens: row.6, totalTokens: row.7, cachedCalls: row.8,
                    costMicros: row.9))
        }
        return totals
    }
}
