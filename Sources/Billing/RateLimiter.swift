import Logging
import Persistence
import PostgresNIO

/// Takes one request from a tenant's bucket on every authenticated request. The bucket lives in
/// Postgres (`rate_limit_take`), so every replica shares it; one statement outside any transaction sets
/// the tenant, commits asynchronously (a counter, not money) and locks only that tenant's row, so one
/// tenant's hot row never holds up another's.
///
/// A refusal is remembered on this replica until the bucket's next token is due: a tenant past its limit
/// is refused from memory meanwhile, so a flood of its requests costs no database round trip (and no
/// pooled connection other tenants wait for). That never admits more: no token exists before then.
public struct RateLimiter: Sendable {
    let database: Database
    private let refusals = RefusalMemory<TenantID, RateLimitDecision>()

    public init(database: Database) {
        self.database = database
    }

    /// The decision for one request of `tenantID`; nil when the tenant has no limits row (it no longer
    /// exists).
    public func take(_ tenantID: TenantID) async throws -> RateLimitDecision? {
        if let (refused, left) = refusals.refusal(for: tenantID) {
            return RateLimitDecision(
                allowed: false, requestsPerMinute: refused.requestsPerMinute, burst: refused.burst, remaining: 0,
                resetSeconds: refused.resetSeconds, retryAfterSeconds: wholeSecondsRoundedUp(left, atLeast: 1))
        }
        let rows = try await database.query(
            """
            SELECT allowed, requests_per_minute, burst, remaining, reset_seconds, retry_after_seconds
            FROM rate_limit_take(\(tenantID.rawValue))
            """, for: tenantID, logger: database.logger)
        for try await (allowed, rpm, burst, remaining, reset, retryAfter) in rows.decode(
            (Bool, Int, Int, Int, Double, Double).self)
        {
            let decision = RateLimitDecision(
                allowed: allowed, requestsPerMinute: rpm, burst: burst, remaining: remaining,
                resetSeconds: wholeSecondsRoundedUp(reset),
                retryAfterSeconds: allowed ? 0 : wholeSecondsRoundedUp(retryAfter, atLeast: 1))
            if !allowed { refusals.remember(decision, for: tenantID, seconds: retryAfter, atMost: 60) }
            return decision
        }
        return nil
    }
}
