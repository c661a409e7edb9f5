import Synchronization

/// How fast each source's request bodies are read (`CP_BODY_BYTES_PER_SECOND_PER_SOURCE`): a bucket per
/// source (the same sources as `BodyBudget`'s) that holds its in-flight share at most and refills at the
/// rate. A source that has read its bucket dry waits before its next chunk is read, so the kernel's
/// buffers fill and its client's sends slow down: a flood of large bodies costs the replica at most the
/// rate's worth of reading and hashing, whatever the sender can push, while a single delivery of any
/// allowed size still goes at full speed from a full bucket.
package final class BodyReadRate: Sendable {
    private struct Bucket {
        var level: Double
        var at: ContinuousClock.Instant
    }

    /// Bytes a second each source may be read at; 0 turns the pacing off.
    package let bytesPerSecond: Int
    /// What a bucket holds when full: a source's read at once after a quiet spell.
    package let burst: Int
    /// The buckets kept; past it, full ones (which carry nothing) are forgotten.
    package let capacity: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    package init(bytesPerSecond: Int, burst: Int, capacity: Int = 10_000) {
        self.bytesPerSecond = max(0, bytesPerSecond)
        self.burst = max(1, burst)
        self.capacity = max(1, capacity)
    }

    /// Charges `bytes` just read to `source`; answers how long to wait before reading more of its bodies.
    package func charge(_ bytes: Int, to source: String) -> Duration {
        guard bytesPerSecond > 0 else { return .zero }
        let now = ContinuousClock.now
        let rate = Double(bytesPerSecond)
        let full = Double(burst)
        return buckets.withLock { buckets in
            var bucket = buckets[source] ?? Bucket(level: full, at: now)
            bucket.level = min(full, bucket.level + (now - bucket.at).seconds * rate) - Double(bytes)
            bucket.at = now
            if buckets[source] == nil, buckets.count >= capacity {
                buckets = buckets.filter { $0.value.level + (now - $0.value.at).seconds * rate < full }
            }
            buckets[source] = bucket
            return bucket.level >= 0 ? .zero : .milliseconds(Int64((-bucket.level / rate * 1000).rounded(.up)))
        }
    }
}
