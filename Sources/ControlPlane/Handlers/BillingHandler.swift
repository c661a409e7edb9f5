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
    let limits = RateLimitRepository()
    let budgets = BudgetRepository()
    let ledger = UsageLedger()
    let tenants = TenantRepository()
    let audit = AuditLog()

    func getLimits(_ input: Operations.GetLimits.Input) async throws -> Operations.GetLimits.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let limit = try await database.withTenant(tenantID, { try await limits.find(in: $0) }) else {
            throw APIError.notFound("tenant")
        }
        return .ok(.init(body: .json(.init(limit))))
    }

    func updateLimits(_ input: Operations.UpdateLimits.Input) async throws -> Operations.UpdateLimits.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.range(change.requestsPerMinute, 1...RateLimit.ceiling, field: "requests_per_minute")
        try Validation.range(change.burst, 1...RateLimit.ceiling, field: "burst")
        let entry = try scope.auditEntry("limits.update", targetType: "tenant", targetID: tenantID.description)
        let limit = try await database.withTenant(tenantID) { transaction -> RateLimit? in
            guard
                let limit = try await limits.update(
                    requestsPerMinute: change.requestsPerMinute, burst: change.burst, in: transaction)
            else { return nil }
            try await audit.record(entry, in: transaction)
            return limit
        }
        guard let limit else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(limit))))
    }

    func getBudget(_ input: Operations.GetBudget.Input) async throws -> Operations.GetBudget.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let answer = try await database.withTenant(tenantID) { transaction -> Components.Schemas.Budget? in
            guard let budget = try await budgets.find(in: transaction) else { return nil }
            return .init(budget, standing: try await budgets.standing(of: budget, in: transaction))
        }
        guard let answer else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(answer)))
    }

    func updateBudget(_ input: Operations.UpdateBudget.Input) async throws -> Operations.UpdateBudget.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        try Validation.range(change.tokenLimit, 0...Budget.ceiling, field: "token_limit")
        let soft = change.softLimitPercent ?? 80
        try Validation.range(soft, 1...100, field: "soft_limit_percent")
        let entry = try scope.auditEntry("budget.update", targetType: "tenant", targetID: tenantID.description)
        let answer = try await database.withTenant(tenantID) { transaction -> Components.Schemas.Budget? in
            guard
                let budget = try await budgets.update(
                    period: Budget.Period(change.period), tokenLimit: change.tokenLimit, softLimitPercent: soft,
                    onExhausted: change.onExhausted.map(Budget.OnExhausted.init) ?? .block, in: transaction)
            else { return nil }
            try await audit.record(entry, in: transaction)
            return .init(budget, standing: try await budgets.standing(of: budget, in: transaction))
        }
        guard let answer else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(answer)))
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
