import Foundation
import Persistence

/// The rate limit and budget a new tenant starts with: its own limits equal the caps until an operator
/// raises them, and the budget is monthly, blocks when spent and warns at 80 %.
public struct SpendDefaults: Sendable {
    public let rateLimit: RateLimit
    public let budget: Budget

    public init(requestsPerMinute: Int, burst: Int, tokenLimit: Int64, maxTokenLimit: Int64, now: Date = Date()) {
        rateLimit = RateLimit(
            requestsPerMinute: requestsPerMinute, burst: burst, maxRequestsPerMinute: requestsPerMinute,
            maxBurst: burst, updatedAt: now)
        budget = Budget(
            period: .month, tokenLimit: tokenLimit, softLimitPercent: 80, onExhausted: .block,
            maxTokenLimit: maxTokenLimit, updatedAt: now)
    }

    /// Makes the new tenant's rows, in its signup transaction.
    public func provision(in transaction: TenantTransaction) async throws {
        try await RateLimitRepository().provision(rateLimit, in: transaction)
        try await BudgetRepository().provision(budget, in: transaction)
    }
}
