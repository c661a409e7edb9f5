import Foundation
import Persistence
import Synchronization

/// Requests of hot tenants that this replica took from their buckets ahead of time and hands out itself,
/// so a tenant sending many requests costs one bucket statement per lease rather than one per request.
///
/// A lease is taken from the shared bucket in Postgres (`rate_limit_lease`), which moves on by exactly
/// what it granted: leases never let through more than the limit and the burst allow, on any number of
/// replicas. A lease is used within `validity` or given up (its requests were counted, so a tenant may
/// get slightly fewer than its limit, never more). Its size follows the tenant's pace on this replica:
/// one request at a time for a tenant that is not hot, doubling while leases run out within a tenth of
/// `validity`, halving otherwise, and never above a sixteenth of the tenant's burst or `largest`. What a
/// replica still holds when a tenant stops is not handed out, so that share bounds how far below its
/// limit a tenant can be held (a sixteenth of the burst per replica at most), and a tenant with a burst
/// under 32 is never leased more than one request at a time: its limit stays exact. At most `capacity`
/// tenants hold leases at once: when that many do, the lapsed ones are dropped, and all of them if more
/// than half are still live (their requests are then not handed out).
public final class RateLimitLeases: Sendable {
    struct Lease {
        /// Requests left to hand out.
        var left: Int
        /// When the last lease was taken; its requests lapse `validity` later.
        var takenAt: ContinuousClock.Instant
        /// How many the last lease asked for.
        var size: Int
        /// The bucket as the last lease left it.
        var decision: RateLimitDecision
    }

    private let leases = Mutex<[TenantID: Lease]>([:])
    public let validity: Duration
    public let largest: Int
    public let capacity: Int

    public init(validity: Duration = .seconds(1), largest: Int = 64, capacity: Int = 10_000) {
        self.validity = validity
        self.largest = max(1, largest)
        self.capacity = max(1, capacity)
    }

    /// One request of `tenant` from this replica's lease, with the bucket as it stands (what the lease
    /// left in Postgres plus what is left of the lease); nil when there is none to hand out.
    public func take(_ tenant: TenantID, now: ContinuousClock.Instant = .now) -> RateLimitDecision? {
        leases.withLock { leases -> RateLimitDecision? in
            guard var lease = leases[tenant], lease.left > 0, now - lease.takenAt < validity else { return nil }
            lease.left -= 1
            leases[tenant] = lease
            return Self.decision(lease.decision, left: lease.left)
        }
    }

    /// How many requests the next lease of `tenant` asks for.
    public func wanted(_ tenant: TenantID, now: ContinuousClock.Instant = .now) -> Int {
        leases.withLock { leases -> Int in
            guard let lease = leases[tenant] else { return 1 }
            let ceiling = max(1, min(largest, lease.decision.burst / 16))
            let hot = now - lease.takenAt < validity / 10
            return min(ceiling, max(1, hot ? lease.size * 2 : lease.size / 2))
        }
    }

    /// Records a lease of `granted` requests asked for as `wanted`, of which the caller uses one now;
    /// answers the decision for that request.
    public func granted(
        _ granted: Int, wanted: Int, to tenant: TenantID, decision: RateLimitDecision,
        now: ContinuousClock.Instant = .now
    ) -> RateLimitDecision {
        let left = max(0, granted - 1)
        leases.withLock { leases in
            if leases[tenant] == nil, leases.count >= capacity {
                // Lapsed ones go; if more than half are still live, all go, so the next clean-up is at
                // least half the capacity of new tenants away (never a scan on every new tenant).
                leases = leases.filter { now - $0.value.takenAt < validity }
                if leases.count > capacity / 2 { leases.removeAll(keepingCapacity: true) }
            }
            var lease = leases[tenant] ?? Lease(left: 0, takenAt: now, size: 1, decision: decision)
            // What another request of this tenant leased meanwhile is still good, unless it lapsed.
            lease.left = (now - lease.takenAt < validity ? lease.left : 0) + left
            lease.takenAt = now
            lease.size = wanted
            lease.decision = decision
            leases[tenant] = lease
        }
        return Self.decision(decision, left: left)
    }

    static func decision(_ bucket: RateLimitDecision, left: Int) -> RateLimitDecision {
        RateLimitDecision(
            allowed: true, requestsPerMinute: bucket.requestsPerMinute, burst: bucket.burst,
            remaining: min(bucket.burst, bucket.remaining + left), resetSeconds: bucket.resetSeconds,
            retryAfterSeconds: 0)
    }
}
