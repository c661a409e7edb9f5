import Billing
import Foundation
import Persistence
import PostgresNIO
import TestKit

/// The Postgres started by `scripts/test`, as the application role, and tenants made directly in it.
enum BillingDatabase {
    /// A new tenant in `timezone` with a budget of `tokenLimit` per `period`.
    static func tenant(
        in database: Database, timezone: String = "UTC", period: Budget.Period = .month, tokenLimit: Int64,
        onExhausted: Budget.OnExhausted = .block, softLimitPercent: Int = 80
    ) async throws -> TenantID {
        try await TestDatabase.tenant(in: database, timezone: timezone, prefix: "b") { transaction in
            try await RateLimitRepository().provision(
                RateLimit(
                    requestsPerMinute: 600, burst: 100, maxRequestsPerMinute: 600, maxBurst: 100, updatedAt: Date()),
                in: transaction)
            try await BudgetRepository().provision(
                Budget(
                    period: period, tokenLimit: tokenLimit, softLimitPercent: softLimitPercent,
                    onExhausted: onExhausted, maxTokenLimit: max(tokenLimit, 1_000_000_000), updatedAt: Date()),
                in: transaction)
        }
    }

    static func usage(tokens: Int64, requestID: String = UUID().uuidString, cached: Bool = false) -> Usage {
        Usage(
            requestID: requestID, kind: "chat", provider: "mock", model: "mock-1", promptTokens: tokens / 4,
            completionTokens: tokens - tokens / 4 - tokens / 10, reasoningTokens: tokens / 10, totalTokens: tokens,
            cached: cached, costMicros: cached ? 0 : tokens)
    }
}
