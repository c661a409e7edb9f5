import Billing
import Foundation
import Persistence

/// The rate limit and budget a new tenant starts with, from the configuration: its own limits equal the
/// caps until an operator raises them.
struct SpendDefaults: Sendable {
    let rateLimit: RateLimit
    let budget: Budget

    init(_ configuration: Configuration) {
        rateLimit = RateLimit(
            requestsPerMinute: configuration.defaultRequestsPerMinute, burst: configuration.defaultBurst,
            maxRequestsPerMinute: configuration.defaultRequestsPerMinute, maxBurst: configuration.defaultBurst,
            updatedAt: Date())
        budget = Budget(
            period: .month, tokenLimit: configuration.defaultTokenLimit, softLimitPercent: 80, onExhausted: .block,
            maxTokenLimit: configuration.defaultMaxTokenLimit, updatedAt: Date())
    }

    /// Makes the new tenant's rows, in its signup transaction.
    func provision(in transaction: TenantTransaction) async throws {
        try await RateLimitRepository().provision(rateLimit, in: transaction)
        try await BudgetRepository().provision(budget, in: transaction)
    }
}
