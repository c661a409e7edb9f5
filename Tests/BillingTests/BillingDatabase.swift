import Billing
import Foundation
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// The Postgres started by `scripts/test`, as the application role, and tenants made directly in it.
enum BillingDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "billing-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `body` with a fresh pool (one "server instance") on the application role.
    static func with<Value: Sendable>(_ body: @Sendable (Database) async throws -> Value) async throws -> Value {
        guard let url = ProcessInfo.processInfo.environment["CP_DATABASE_URL"], !url.isEmpty else {
            throw MissingEnvironment()
        }
        var configuration = try DatabaseURL.configuration(url)
        configuration.options.maximumConnections = 20
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, logger: logger))
        }
    }

    /// A new tenant in `timezone` with a budget of `tokenLimit` per `period`.
    static func tenant(
        in database: Database, timezone: String = "UTC", period: Budget.Period = .month, tokenLimit: Int64,
        onExhausted: Budget.OnExhausted = .block, softLimitPercent: Int = 80
    ) async throws -> TenantID {
        let id = TenantID.generate()
        let slug = "b-\(id.description.prefix(12))"
        try await database.withTenant(id) { transaction in
            try await TenantRepository().insert(
                Tenant(
                    id: id, slug: slug, name: "Billing \(slug)", status: .active, plan: .free, timezone: timezone,
                    createdAt: Date()), in: transaction)
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
        return id
    }

    static func usage(tokens: Int64, requestID: String = UUID().uuidString, cached: Bool = false) -> Usage {
        Usage(
            requestID: requestID, kind: "chat", provider: "mock", model: "mock-1", promptTokens: tokens / 4,
            completionTokens: tokens - tokens / 4 - tokens / 10, reasoningTokens: tokens / 10, totalTokens: tokens,
            cached: cached, costMicros: cached ? 0 : tokens)
    }
}

struct MissingEnvironment: Error, CustomStringConvertible {
    var description: String { "CP_DATABASE_URL is not set (run the tests through scripts/test)" }
}
