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
    let spend: SpendControl
    let ledger = UsageLedger()

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
        let limit = try await spend.setLimitCaps(
            of: tenantID, maxRequestsPerMinute: change.maxRequestsPerMinute, maxBurst: change.maxBurst,
            requestsPerMinute: change.requestsPerMinute, burst: change.burst,
            recordedAs: try RequestScope.now.auditCaller())
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
        let view = try await spend.setBudgetCap(
            of: tenantID, maxTokenLimit: change.maxTokenLimit, period: change.period.map(Budget.Period.init),
            tokenLimit: change.tokenLimit, softLimitPercent: change.softLimitPercent,
            onExhausted: change.onExhausted.map(Budget.OnExhausted.init), recordedAs: try RequestScope.now.auditCaller()
        )
        return .ok(.init(body: .json(.init(view.budget, standing: view.standing))))
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
