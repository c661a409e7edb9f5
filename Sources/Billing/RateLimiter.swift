import Logging
import Persistence
import PostgresNIO

/// Takes one request from a tenant's bucket on every authenticated request. The bucket lives in
/// Postgres (`rate_limit_lease`), so every replica shares it; one statement outside any transaction sets
/// the tenant, commits asynchronously (a counter, not money) and locks only that tenant's row, so one
/// tenant's hot row never holds up another's. A hot tenant's requests come from a lease this replica
/// took from the bucket ahead of time (`RateLimitLeases`), a statement per lease rather than per request.
///
/// A refusal is remembered on this replica until the bucket's next token is due: a tenant past its limit
/// is refused from memory meanwhile, so a flood of its requests costs no database round trip (and no
/// pooled connection other tenants wait for). That never admits more: no token exists before then.
public struct RateLimiter: Sendable {
    let database: Database
    let leases: RateLimitLeases
    private let refusals = RefusalMemory<TenantID, RateLimitDecision>()

    public init(database: Database, leases: RateLimitLeases = RateLimitLeases()) {
        self.database = database
        self.leases = leases
    }

    /// The decision for one request of `tenantID`; nil when the tenant has no limits row (it no longer
    /// exists).
    public func take(_ tenantID: TenantID) async throws -> RateLimitDecision? {
        // Requests this replica already holds were granted by the bucket: they go before a refusal it
        // remembers (another request's lease may have come back just before that refusal).
        if let leased = leases.take(tenantID) { return leased }
        if let (refused, left) = refusals.refusal(for: tenantID) {
            return RateLimitDecision(
                allowed: false, requestsPerMinute: refused.requestsPerMinute, burst: refused.burst, remaining: 0,
                resetSeconds: refused.resetSeconds, retryAfterSeconds: wholeSecondsRoundedUp(left, atLeast: 1))
        }
        let wanted = leases.wanted(tenantID)
        for (granted, rpm, burst, remaining, reset, retryAfter) in try await database.execute(
            LeaseStatement(tenantID: tenantID, wanted: wanted), for: tenantID)
        {
            let decision = RateLimitDecision(
                allowed: granted > 0, requestsPerMinute: rpm, burst: burst, remaining: remaining,
                resetSeconds: wholeSecondsRoundedUp(reset),
                retryAfterSeconds: granted > 0 ? 0 : wholeSecondsRoundedUp(retryAfter, atLeast: 1))
            guard granted > 0 else {
                refusals.remember(decision, for: tenantID, seconds: retryAfter, atMost: 60)
                return decision
            }
            return leases.granted(granted, wanted: wanted, to: tenantID, decision: decision)
        }
        return nil
    }
}

/// `rate_limit_lease`, prepared: every authenticated request of a tenant without a lease in hand runs it.
private struct LeaseStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT granted, requests_per_minute, burst, remaining, reset_seconds, retry_after_seconds
        FROM rate_limit_lease($1, $2)
        """
    typealias Row = (Int, Int, Int, Int, Double, Double)
    let tenantID: TenantID
    let wanted: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(tenantID.rawValue)
        bindings.append(Int32(clamping: wanted))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
