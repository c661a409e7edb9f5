import Billing
import ControlPlaneAPI
import ControlPlaneAPITypes
import Foundation

/// Conversions between the billing records and the generated API types.
extension Components.Schemas.RateLimits {
    init(_ limit: RateLimit) {
        self.init(
            requestsPerMinute: limit.requestsPerMinute, burst: limit.burst,
            maxRequestsPerMinute: limit.maxRequestsPerMinute, maxBurst: limit.maxBurst, updatedAt: limit.updatedAt)
    }
}

extension Components.Schemas.Budget {
    init(_ budget: Budget, standing: BudgetStanding) {
        self.init(
            period: Components.Schemas.BudgetPeriod(rawValue: budget.period.rawValue) ?? .month,
            tokenLimit: budget.tokenLimit, softLimitPercent: budget.softLimitPercent,
            onExhausted: Components.Schemas.OnExhausted(rawValue: budget.onExhausted.rawValue) ?? .block,
            maxTokenLimit: budget.maxTokenLimit, updatedAt: budget.updatedAt,
            current: .init(
                periodStart: standing.periodStart, resetsAt: standing.periodEnd, used: standing.used,
                reserved: standing.reserved, remaining: standing.remaining(of: budget),
                softLimitReached: standing.softLimitReached, exhausted: standing.exhausted))
    }
}

extension Components.Schemas.UsageTotal {
    init(_ total: UsageLedger.Total) {
        self.init(
            day: total.day, provider: total.provider, model: total.model, calls: total.calls,
            promptTokens: total.promptTokens, completionTokens: total.completionTokens,
            reasoningTokens: total.reasoningTokens, totalTokens: total.totalTokens, cachedCalls: total.cachedCalls,
            costMicros: total.costMicros)
    }
}

extension Budget.Period {
    init(_ period: Components.Schemas.BudgetPeriod) {
        self = Budget.Period(rawValue: period.rawValue) ?? .month
    }
}

extension Budget.OnExhausted {
    init(_ value: Components.Schemas.OnExhausted) {
        self = Budget.OnExhausted(rawValue: value.rawValue) ?? .block
    }
}
