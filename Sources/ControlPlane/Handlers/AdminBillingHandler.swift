import Billing
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The operator's side of spend control: a tenant's caps, and usage across tenants.
struct AdminBillingHandler: Sendable {
    let database: Database
    let limits = RateLimitRepository()
    let budgets = BudgetRepository()
    let ledger = UsageLedger()
    let audit = AuditLog()

    func updateAdminLimits(_ input: Operations.UpdateAdminLimits.Input) async throws
        -> Operations.UpdateAdminLimits.Output
    {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let bounds = 1...RateLimit.ceiling
        try Validation.range(change.maxRequestsPerMinute, bounds, field: "max_requests_per_minute")
        try Validation.range(change.maxBurst, bounds, field: "max_burst")
        if let value = change.requestsPerMinute { try Validation.range(value, bounds, field: "requests_per_minute") }
        if let value = change.burst { try Validation.range(value, bounds, field: "burst") }
        let entry = try RequestScope.now.auditEntry(
            "limits.admin_update", targetType: "tenant", targetID: tenantID.description)
        let limit = try await database.asOperator(actingOn: tenantID) { transaction -> RateLimit? in
            guard
                let limit = try await limits.operatorUpdate(
                    maxRequestsPerMinute: change.maxRequestsPerMinute, maxBurst: change.maxBurst,
                    requestsPerMinute: change.requestsPerMinute, burst: change.burst, in: transaction)
            else { return nil }
            try await audit.record(entry, in: transaction)
            return limit
        }
        guard let limit else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(limit))))
    }

    func updateAdminBudget(_ input: Operations.UpdateAdminBudget.Input) async throws
        -> Operations.UpdateAdminBudget.Output
    {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.range(change.maxTokenLimit, 0...Budget.ceiling, field: "max_token_limit")
        if let value = change.tokenLimit { try Validation.range(value, 0...Budget.ceiling, field: "token_limit") }
        if let value = change.softLimitPercent { try Validation.range(value, 1...100, field: "soft_limit_percent") }
        let entry = try RequestScope.now.auditEntry(
            "budget.admin_update", targetType: "tenant", targetID: tenantID.description)
        let answer = try await database.asOperator(actingOn: tenantID) { transaction -> Components.Schemas.Budget? in
            guard
                let budget = try await budgets.operatorUpdate(
                    maxTokenLimit: change.maxTokenLimit, period: change.period.map(Budget.Period.init),
                    tokenLimit: change.tokenLimit, softLimitPercent: change.softLimitPercent,
                    onExhausted: change.onExhausted.map(Budget.OnExhausted.init), in: transaction)
            else { return nil }
            try await audit.record(entry, in: transaction)
            return .init(budget, standing: try await budgets.standing(of: budget, in: transaction))
        }
        guard let answer else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(answer)))
    }

    func getAdminUsage(_ input: Operations.GetAdminUsage.Input) async throws -> Operations.GetAdminUsage.Output {
        var tenantID: TenantID?
        if let text = input.query.tenantId {
            guard let id = TenantID(string: text) else { throw APIError.invalid("tenant_id must be a UUID.") }
            tenantID = id
        }
        let (from, to) = try Validation.usageDays(
            from: input.query.from, to: input.query.to, today: Date(), timeZone: .gmt)
        let totals = try await database.transaction(.operator(actingOn: nil)) {
            try await ledger.platformTotals(from: from, to: to, tenantID: tenantID, on: $0)
        }
        return .ok(.init(body: .json(.init(items: totals.map { .init($0) }))))
    }
}
