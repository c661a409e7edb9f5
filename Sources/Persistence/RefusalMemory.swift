import BlockingWork
import Synchronization

/// Refusals remembered on this replica until they lapse, bounded in count: a subject refused until a
/// known instant (its window's end, its bucket's next token) is refused from memory meanwhile, so a flood
/// of requests that would be refused anyway costs no database round trip and no pooled connection that
/// other tenants wait for. It never admits more than the store would: nothing is allowed from memory.
public final class RefusalMemory<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        let until: ContinuousClock.Instant
        let value: Value
    }

    private let refused = Mutex<[Key: Entry]>([:])
    /// The most refusals held; past it, lapsed ones go, and if none has lapsed all are forgotten (the
    /// store still refuses them, at its usual cost).
    public let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// The refusal remembered for `key` and the seconds left of it, unless it has lapsed.
    public func refusal(for key: Key) -> (value: Value, secondsLeft: Double)? {
        let now = ContinuousClock.now
        return refused.withLock { refused in
            guard let entry = refused[key] else { return nil }
            guard now < entry.until else {
                refused[key] = nil
                return nil
            }
            return (entry.value, (entry.until - now).seconds)
        }
    }

    /// Remembers `value` as `key`'s refusal for `seconds` (at most `atMost`).
    public func remember(_ value: Value, for key: Key, seconds: Double, atMost: Double) {
        guard seconds > 0, seconds.isFinite else { return }
        let until = ContinuousClock.now + .milliseconds(Int64(min(seconds, atMost) * 1000))
        refused.withLock { refused in
            if refused.count >= capacity, refused[key] == nil {
                let now = ContinuousClock.now
                refused = refused.filter { $0.value.until > now }
                if refused.count >= capacity { refused.removeAll() }
            }
            refused[key] = Entry(until: until, value: value)
        }
    }

    /// Forgets `key`'s refusal (its window was reset).
    public func forget(_ key: Key) {
        _ = refused.withLock { $0.removeValue(forKey: key) }
    }
}
