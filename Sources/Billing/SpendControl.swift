import Foundation
import Persistence
import Tenancy

/// A tenant's rate limit and budget as it reads them, and changes to them, by the tenant (its own values, within its caps) or by an
/// operator (the caps, and the values clamped to them). Each change is made in its transaction with its
/// audit entry; a tenant without limits (none, or not visible to the caller) is `Refusal.notFound`.
public struct SpendControl: Sendable {
    let database: Database
    let limits = RateLimitRepository()
    let budgets = BudgetRepository()
    let audit = AuditLog()

    public init(database: Database) { self.database = database }

    /// Who makes a change: the tenant in its own transaction, or an operator acting on it.
    public enum Changer: Sendable {
        case tenant
        case `operator`
    }

    /// A budget and how its current period stands.
    public struct BudgetView: Sendable {
        public let budget: Budget
        public let standing: BudgetStanding
    }

    public func limits(of tenantID: TenantID) async throws -> RateLimit {
        try await transact(tenantID, by: .tenant, audited: nil) { try await limits.find(in: $0) }
    }

    public func budget(of tenantID: TenantID) async throws -> BudgetView {
        try await transact(tenantID, by: .tenant, audited: nil) { transaction in
            try await view(try await budgets.find(in: transaction), in: transaction)
        }
    }

    /// The tenant sets its own budget (its limit within the operator's cap, else `AboveCap`).
    public func setBudget(
        of tenantID: TenantID, period: Budget.Period, tokenLimit: Int64, softLimitPercent: Int,
        onExhausted: Budget.OnExhausted, recordedAs caller: AuditLog.Caller
    ) async throws -> BudgetView {
        try await transact(tenantID, by: .tenant, audited: caller.entry("budget.update", tenant: tenantID)) {
            transaction in
            let budget = try await budgets.update(
                period: period, tokenLimit: tokenLimit, softLimitPercent: softLimitPercent, onExhausted: onExhausted,
                in: transaction)
            return try await view(budget, in: transaction)
        }
    }

    /// An operator sets the cap, and optionally the budget (its limit clamped to the cap).
    public func setBudgetCap(
        of tenantID: TenantID, maxTokenLimit: Int64, period: Budget.Period?, tokenLimit: Int64?,
        softLimitPercent: Int?, onExhausted: Budget.OnExhausted?, recordedAs caller: AuditLog.Caller
    ) async throws -> BudgetView {
        try await transact(tenantID, by: .operator, audited: caller.entry("budget.admin_update", tenant: tenantID)) {
            transaction in
            let budget = try await budgets.operatorUpdate(
                maxTokenLimit: maxTokenLimit, period: period, tokenLimit: tokenLimit,
                softLimitPercent: softLimitPercent,
                onExhausted: onExhausted, in: transaction)
            return try await view(budget, in: transaction)
        }
    }

    /// The tenant sets its own rate limit (within the operator's caps, else `AboveCap`).
    public func setLimits(
        of tenantID: TenantID, requestsPerMinute: Int, burst: Int, recordedAs caller: AuditLog.Caller
    ) async throws -> RateLimit {
        try await transact(tenantID, by: .tenant, audited: caller.entry("limits.update", tenant: tenantID)) {
            try await limits.update(requestsPerMinute: requestsPerMinute, burst: burst, in: $0)
        }
    }

    /// An operator sets the caps, and optionally the tenant's values (clamped to them).
    public func setLimitCaps(
        of tenantID: TenantID, maxRequestsPerMinute: Int, maxBurst: Int, requestsPerMinute: Int?, burst: Int?,
        recordedAs caller: AuditLog.Caller
    ) async throws -> RateLimit {
        try await transact(tenantID, by: .operator, audited: caller.entry("limits.admin_update", tenant: tenantID)) {
            try await limits.operatorUpdate(
                maxRequestsPerMinute: maxRequestsPerMinute, maxBurst: maxBurst, requestsPerMinute: requestsPerMinute,
                burst: burst, in: $0)
        }
    }

    /// The budget with its standing; nil without a budget.
    private func view(_ budget: Budget?, in transaction: TenantTransaction) async throws -> BudgetView? {
        guard let budget else { return nil }
        return BudgetView(budget: budget, standing: try await budgets.standing(of: budget, in: transaction))
    }

    /// The one frame of every read and change: the changer's transaction, the body, and for a change its
    /// audit entry; nothing found is `Refusal.notFound`.
    private func transact<Value: Sendable>(
        _ tenantID: TenantID, by changer: Changer, audited entry: AuditLog.Entry?,
        _ body: (TenantTransaction) async throws -> Value?
    ) async throws -> Value {
        let work: (TenantTransaction) async throws -> Value? = { transaction in
            guard let value = try await body(transaction) else { return nil }
            if let entry { try await audit.record(entry, in: transaction) }
            return value
        }
        let value =
            switch changer {
            case .tenant: try await database.withTenant(tenantID, work)
            case .operator: try await database.asOperator(actingOn: tenantID, work)
            }
        guard let value else { throw Refusal.notFound("tenant") }
        return value
    }
}

extension AuditLog.Caller {
    fileprivate func entry(_ action: String, tenant: TenantID) -> AuditLog.Entry {
        entry(action, targetType: "tenant", targetID: tenant.description)
    }
}
