import Foundation
import Synchronization

/// Claims of tokens whose signature was already checked, so a repeated token costs a dictionary lookup
/// (~1 µs) instead of an Ed25519 verification (~65 µs). Each entry remembers the `kid` that verified it,
/// so the caller can refuse it once that key is retired. Only the signature is cached; time, revocation
/// and tenant checks run every time.
///
/// Bounded to `capacity` entries in two generations of half of it each: new entries go into the current
/// one; when it is full it becomes the previous one and the old previous one is dropped whole. A token
/// found in the previous generation moves to the current one, so the tokens in use stay while the ones
/// not seen for a generation go. Every operation is O(1) (amortised): with more keys in use than the
/// cache holds, a lookup never scans it, it just misses.
public final class VerifiedTokenCache: Sendable {
    typealias Entry = (claims: Claims, kid: String)
    private struct Generations {
        var current: [String: Entry] = [:]
        var previous: [String: Entry] = [:]
    }
    private let generations = Mutex(Generations())
    /// The most entries of one generation.
    private let half: Int

    public init(capacity: Int = 100_000) { self.half = max(1, capacity / 2) }

    public func entry(for token: String) -> (claims: Claims, kid: String)? {
        generations.withLock { generations in
            if let entry = generations.current[token] { return entry }
            guard let entry = generations.previous.removeValue(forKey: token) else { return nil }
            Self.insert(entry, for: token, into: &generations, half: half)
            return entry
        }
    }

    public func store(_ claims: Claims, kid: String, for token: String) {
        generations.withLock { Self.insert((claims, kid), for: token, into: &$0, half: half) }
    }

    private static func insert(_ entry: Entry, for token: String, into generations: inout Generations, half: Int) {
        if generations.current.count >= half, generations.current[token] == nil {
            generations.previous = generations.current
            generations.current = [:]
            generations.current.reserveCapacity(half)
        }
        generations.current[token] = entry
    }

    /// The entries held now (at most the capacity).
    public var count: Int { generations.withLock { $0.current.count + $0.previous.count } }
}
