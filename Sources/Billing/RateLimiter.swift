import Logging
import PostgresNIO
import Tenancy

/// Takes one request from a tenant's bucket on every authenticated request. The bucket lives in
/// Postgres (`rate_limit_take`), so every replica shares it; one statement outside any transaction sets
/// the tenant, commits asynchronously (a counter, not money) and locks only that tenant's row, so one
/// tenant's hot row never holds up another's.
public struct RateLimiter: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The decision for one request of `tenantID`; nil when the tenant has no limits row (it no longer
    /// exists).
    public func take(_ tenantID: TenantID) async throws -> RateLimitDecision? {
        let rows = try await database.query(
            """
            SELECT allowed, requests_per_minute, burst, remaining, reset_seconds, retry_after_seconds
            FROM rate_limit_take(\(tenantID.rawValue))
            """, logger: database.logger)
        for try await (allowed, rpm, burst, remaining, reset, retryAfter) in rows.decode(
            (Bool, Int, Int, Int, Double, Double).self)
        {
            return RateLimitDecision(
                allowed: allowed, requestsPerMinute: rpm, burst: burst, remaining: remaining,
                resetSeconds: wholeSecondsRoundedUp(reset),
                retryAfterSeconds: allowed ? 0 : wholeSecondsRoundedUp(retryAfter, atLeast: 1))
        }
        return nil
    }
}
