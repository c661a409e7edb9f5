import Synchronization

/// How many of one shared thing each tenant holds right now on this replica (worker slots, gateway calls,
/// notification attempts), so a per-tenant bound can be kept. Counts of zero are forgotten.
public final class TenantCounts: Sendable {
    private let counts = Mutex<[TenantID: Int]>([:])

    public init() {}

    /// Takes one for `tenant` when it holds fewer than `limit`; answers whether it did.
    public func take(_ tenant: TenantID, limit: Int) -> Bool {
        counts.withLock { counts in
            let held = counts[tenant, default: 0]
            guard held < limit else { return false }
            counts[tenant] = held + 1
            return true
        }
    }

    /// Takes one for `tenant`, whatever it holds.
    public func add(_ tenant: TenantID) {
        counts.withLock { $0[tenant, default: 0] += 1 }
    }

    /// Gives one of `tenant`'s back.
    public func remove(_ tenant: TenantID) {
        counts.withLock { counts in
            let left = counts[tenant, default: 0] - 1
            counts[tenant] = left > 0 ? left : nil
        }
    }

    /// What `tenant` holds.
    public func count(_ tenant: TenantID) -> Int {
        counts.withLock { $0[tenant, default: 0] }
    }

    /// What all tenants hold together.
    public var total: Int {
        counts.withLock { $0.values.reduce(0, +) }
    }

    /// The tenants that hold any.
    public var tenants: [TenantID] {
        counts.withLock { Array($0.keys) }
    }
}
