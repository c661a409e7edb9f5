import Foundation
import Synchronization

/// Claims of tokens whose signature was already checked, so a repeated token costs a dictionary lookup
/// (~1 µs) instead of an Ed25519 verification (~65 µs). Each entry remembers the `kid` that verified it,
/// so the caller can refuse it once that key is retired. Bounded: when full, expired entries go first,
/// then arbitrary ones. Only the signature is cached; time, revocation and tenant checks run every time.
public final class VerifiedTokenCache: Sendable {
    private let entries = Mutex([String: (claims: Claims, kid: String)]())
    private let capacity: Int

    public init(capacity: Int = 10_000) { self.capacity = capacity }

    public func entry(for token: String) -> (claims: Claims, kid: String)? {
        entries.withLock { $0[token] }
    }

    public func store(_ claims: Claims, kid: String, for token: String, now: Date) {
        // Compared as Double: converting an Int64 to Double cannot trap, the other way round can.
        let nowSeconds = now.timeIntervalSince1970
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { Double($0.value.claims.exp) > nowSeconds }
                while entries.count >= capacity { entries.remove(at: entries.startIndex) }
            }
            entries[token] = (claims, kid)
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
