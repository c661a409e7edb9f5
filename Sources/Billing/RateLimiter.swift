import Logging
import PostgresNIO
import Synchronization
import Tenancy

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
    private let refusals = RefusalCache()

    public init(database: Database) {
        self.database = database
    }

    /// The decision for one request of `tenantID`; nil when the tenant has no limits row (it no longer
    /// exists).
    public func take(_ tenantID: TenantID) async throws -> RateLimitDecision? {
        if let refused = refusals.refusal(for: tenantID) { return refused }
        let rows = try await database.query(
            """
            SELECT allowed, requests_per_minute, burst, remaining, reset_seconds, retry_after_seconds
            FROM rate_limit_take(\(tenantID.rawValue))
            """, logger: database.logger)
        for try await (allowed, rpm, burst, remaining, reset, retryAfter) in rows.decode(
            (Bool, Int, Int, Int, Double, Double).self)
        {
            let decision = RateLimitDecision(
                allowed: allowed, requestsPerMinute: rpm, burst: burst, remaining: remaining,
                resetSeconds: wholeSecondsRoundedUp(reset),
                retryAfterSeconds: allowed ? 0 : wholeSecondsRoundedUp(retryAfter, atLeast: 1))
            if !allowed { refusals.remember(decision, for: tenantID, tokenDueIn: retryAfter) }
            return decision
        }
        return nil
    }
}

/// Refusals remembered until each tenant's next token is due (at most a minute), bounded in count.
final class RefusalCache: Sendable {
    private let refused = Mutex<[TenantID: (until: ContinuousClock.Instant, decision: RateLimitDecision)]>([:])
    static let capacity = 10_000

    func refusal(for tenantID: TenantID) -> RateLimitDecision? {
        let now = ContinuousClock.now
        return refused.withLock { refused in
            guard let entry = refused[tenantID] else { return nil }
            guard now < entry.until else {
                refused[tenantID] = nil
                return nil
            }
            let (seconds, attoseconds) = (entry.until - now).components
            let left = Double(seconds) + Double(attoseconds) / 1e18
            let refused = entry.decision
            return RateLimitDecision(
                allowed: false, requestsPerMinute: refused.requestsPerMinute, burst: refused.burst, remaining: 0,
                resetSeconds: refused.resetSeconds, retryAfterSeconds: wholeSecondsRoundedUp(left, atLeast: 1))
        }
    }

    func remember(_ decision: RateLimitDecision, for tenantID: TenantID, tokenDueIn seconds: Double) {
        guard seconds > 0 else { return }
        let until = ContinuousClock.now + .milliseconds(Int64(min(seconds, 60) * 1000))
        refused.withLock { refused in
            if refused.count >= Self.capacity {
                let now = ContinuousClock.now
                refused = refused.filter { $0.value.until > now }
                if refused.count >= Self.capacity { refused.removeAll() }
            }
            refused[tenantID] = (until, decision)
        }
    }
}
