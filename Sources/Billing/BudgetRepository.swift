import Foundation
import Persistence
import PostgresNIO

/// Reads and changes a tenant's budget: the tenant's own setting in its transaction, the cap only in an
/// operator transaction (`operator_set_budget`).
public struct BudgetRepository: Sendable {
    public init() {}

    static let columns = "period, token_limit, soft_limit_percent, on_exhausted, max_token_limit, updated_at"

    /// Makes a new tenant's row, in its signup transaction.
    public func provision(_ budget: Budget, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            """
            INSERT INTO budgets (tenant_id, period, token_limit, soft_limit_percent, on_exhausted, max_token_limit)
            VALUES (\(transaction.tenantID.rawValue), \(budget.period.rawValue), \(budget.tokenLimit),
                    \(budget.softLimitPercent), \(budget.onExhausted.rawValue), \(budget.maxTokenLimit))
            """)
    }

    public func find(in transaction: TenantTransaction) async throws -> Budget? {
        try await Self.first(
            try await transaction.query(
                "SELECT \(unescaped: Self.columns) FROM budgets WHERE tenant_id = \(transaction.tenantID.rawValue)"))
    }

    /// Sets the tenant's own budget; throws `AboveCap` when the limit passes the operator's cap.
    public func update(
        period: Budget.Period, tokenLimit: Int64, softLimitPercent: Int, onExhausted: Budget.OnExhausted,
        in transaction: TenantTransaction
    ) async throws -> Budget? {
        let tenant = transaction.tenantID.rawValue
        guard
            let current = try await Self.first(
                try await transaction.query(
                    "SELECT \(unescaped: Self.columns) FROM budgets WHERE tenant_id = \(tenant) FOR UPDATE"))
        else { return nil }
        if tokenLimit > current.maxTokenLimit { throw AboveCap(field: "token_limit", cap: current.maxTokenLimit) }
        return try await Self.first(
            try await transaction.query(
                """
                UPDATE budgets SET period = \(period.rawValue), token_limit = \(tokenLimit),
                    soft_limit_percent = \(softLimitPercent), on_exhausted = \(onExhausted.rawValue), updated_at = now()
                WHERE tenant_id = \(tenant) RETURNING \(unescaped: Self.columns)
                """))
    }

    /// Sets the cap (and optionally the budget, its limit clamped to the cap), in an operator transaction
    /// acting on the tenant.
    public func operatorUpdate(
        maxTokenLimit: Int64, period: Budget.Period?, tokenLimit: Int64?, softLimitPercent: Int?,
        onExhausted: Budget.OnExhausted?, in transaction: TenantTransaction
    ) async throws -> Budget? {
        try await Self.first(
            try await transaction.query(
                """
                SELECT \(unescaped: Self.columns) FROM operator_set_budget(
                    \(transaction.tenantID.rawValue), \(maxTokenLimit), \(period?.rawValue), \(tokenLimit),
                    \(softLimitPercent)::integer, \(onExhausted?.rawValue))
                """))
    }

    /// The standing of the period that contains `date` (now by default) for the tenant's current budget.
    public func standing(of budget: Budget, at date: Date? = nil, in transaction: TenantTransaction) async throws
        -> BudgetStanding
    {
        let tenant = transaction.tenantID.rawValue
        let rows = try await transaction.query(
            """
            SELECT s.period_start, s.period_end, COALESCE(p.used, 0), COALESCE(p.reserved, 0),
                   EXISTS (SELECT 1 FROM budget_events e WHERE e.tenant_id = \(tenant) AND e.period = \(budget.period.rawValue)
                           AND e.period_start = s.period_start AND e.kind = 'threshold_crossed'),
                   EXISTS (SELECT 1 FROM budget_events e WHERE e.tenant_id = \(tenant) AND e.period = \(budget.period.rawValue)
                           AND e.period_start = s.period_start AND e.kind = 'exhausted')
            FROM tenants t
            CROSS JOIN LATERAL budget_period_bounds(\(budget.period.rawValue), t.timezone, COALESCE(\(date), now())) s
            LEFT JOIN budget_periods p ON p.tenant_id = t.tenant_id AND p.period = \(budget.period.rawValue)
                 AND p.period_start = s.period_start
            WHERE t.tenant_id = \(tenant)
            """)
        for try await (start, end, used, reserved, crossed, exhausted) in rows.decode(
            (Date, Date, Int64, Int64, Bool, Bool).self)
        {
            let soft = crossed || Double(used) * 100 >= Double(budget.tokenLimit) * Double(budget.softLimitPercent)
            return BudgetStanding(
                periodStart: start, periodEnd: end, used: used, reserved: reserved, softLimitReached: soft,
                exhausted: exhausted)
        }
        throw BudgetNotFound()
    }

    static func first(_ rows: PostgresRowSequence) async throws -> Budget? {
        for try await (period, limit, soft, onExhausted, cap, updatedAt) in rows.decode(
            (String, Int64, Int, String, Int64, Date).self)
        {
            return Budget(
                period: Budget.Period(rawValue: period) ?? .month, tokenLimit: limit, softLimitPercent: soft,
                onExhausted: Budget.OnExhausted(rawValue: onExhausted) ?? .block, maxTokenLimit: cap,
                updatedAt: updatedAt)
        }
        return nil
    }
}

/// The tenant has no budget row (it no longer exists).
public struct BudgetNotFound: Error, Sendable {
    public init() {}
}
