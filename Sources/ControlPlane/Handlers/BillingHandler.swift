import Billing
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The caller's own rate limit, token budget and usage.
struct BillingHandler: Sendable {
    let database: Database
    let spend: SpendControl
    let ledger = UsageLedger()
    let tenants = TenantRepository()

    func getLimits(_ input: Operations.GetLimits.Input) async throws -> Operations.GetLimits.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        return .ok(.init(body: .json(.init(try await spend.limits(of: tenantID)))))
    }

    func updateLimits(_ input: Operations.UpdateLimits.Input) async throws -> Operations.UpdateLimits.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.range(change.requestsPerMinute, 1...RateLimit.ceiling, field: "requests_per_minute")
        try Validation.range(change.burst, 1...RateLimit.ceiling, field: "burst")
        let limit = try await spend.setLimits(
            of: tenantID, requestsPerMinute: change.requestsPerMinute, burst: change.burst,
            recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(limit))))
    }

    func getBudget(_ input: Operations.GetBudget.Input) async throws -> Operations.GetBudget.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let view = try await spend.budget(of: tenantID)
        return .ok(.init(body: .json(.init(view.budget, standing: view.standing))))
    }

    func updateBudget(_ input: Operations.UpdateBudget.Input) async throws -> Operations.UpdateBudget.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.range(change.tokenLimit, 0...Budget.ceiling, field: "token_limit")
        let soft = change.softLimitPercent ?? 80
        try Validation.range(soft, 1...100, field: "soft_limit_percent")
        let view = try await spend.setBudget(
            of: tenantID, period: Budget.Period(change.period), tokenLimit: change.tokenLimit, softLimitPercent: soft,
            onExhausted: change.onExhausted.map(Budget.OnExhausted.init) ?? .block, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(view.budget, standing: view.standing))))
    }

    func getUsage(_ input: Operations.GetUsage.Input) async throws -> Operations.GetUsage.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let totals = try await database.withTenant(tenantID) { transaction -> [UsageLedger.Total] in
            let zone = try await tenants.find(in: transaction).flatMap { TimeZone(identifier: $0.timezone) }
            let (from, to) = try Validation.usageDays(
                from: input.query.from, to: input.query.to, today: Date(), timeZone: zone ?? .gmt)
            return try await ledger.totals(from: from, to: to, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: totals.map { .init($0) }))))
    }
}
