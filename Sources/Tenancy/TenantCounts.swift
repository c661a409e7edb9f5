import Persistence
import Synchronization

/// How much of one shared thing each holder has right now on this replica (a tenant's worker slots,
/// gateway calls or notification attempts; a source's request-body bytes), so a bound per holder, and
/// one across them all, can be kept. Holders with nothing are forgotten.
public final class HeldCounts<Holder: Hashable & Sendable>: Sendable {
    private let held = Mutex<(byHolder: [Holder: Int], total: Int)>(([:], 0))

    public init() {}

    /// Takes `amount` for `holder` when it then holds at most `limit` and all holders together at most
    /// `totalLimit`; answers whether it did.
    public func take(_ holder: Holder, amount: Int = 1, limit: Int, totalLimit: Int = .max) -> Bool {
        held.withLock { held in
            let mine = held.byHolder[holder, default: 0]
            guard mine + amount <= limit, held.total + amount <= totalLimit else { return false }
            held.byHolder[holder] = mine + amount
            held.total += amount
            return true
        }
    }

    /// Takes `amount` for `holder`, whatever it holds.
    public func add(_ holder: Holder, amount: Int = 1) {
        held.withLock { held in
            held.byHolder[holder, default: 0] += amount
            held.total += amount
        }
    }

    /// Gives `amount` of `holder`'s back.
    public func remove(_ holder: Holder, amount: Int = 1) {
        held.withLock { held in
            let left = held.byHolder[holder, default: 0] - amount
            held.byHolder[holder] = left > 0 ? left : nil
            held.total -= amount
        }
    }

    /// What all holders hold together.
    public var total: Int { held.withLock { $0.total } }

    /// The holders that hold any.
    public var holders: [Holder] { held.withLock { Array($0.byHolder.keys) } }
}

/// What each tenant holds of one shared thing.
public typealias TenantCounts = HeldCounts<TenantID>
