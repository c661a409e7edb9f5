import Persistence
import Synchronization

/// The last queue depth this replica saw per tenant (every enqueue answers it), so ingest can refuse a
/// full queue without a Redis round trip. A depth at or over the cap is read again once it is a second
/// old, so a queue that workers drained opens again.
public final class QueueDepths: Sendable {
    private let seen = Mutex<[TenantID: (depth: Int, at: ContinuousClock.Instant)]>([:])
    public let staleAfter: Duration

    public init(staleAfter: Duration = .seconds(1)) { self.staleAfter = staleAfter }

    /// The depth last seen and whether it is recent enough to act on.
    public func known(_ tenant: TenantID) -> (depth: Int, fresh: Bool)? {
        seen.withLock { table in
            table[tenant].map { ($0.depth, ContinuousClock.now - $0.at < staleAfter) }
        }
    }

    public func record(_ depths: [TenantID: Int]) {
        let now = ContinuousClock.now
        seen.withLock { table in
            // Bounded: a replica serving many tenants forgets them all at once rather than growing.
            if table.count > 100_000 { table.removeAll() }
            for (tenant, depth) in depths { table[tenant] = (depth, now) }
        }
    }
}
