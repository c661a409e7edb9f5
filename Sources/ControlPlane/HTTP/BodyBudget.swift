import Synchronization

/// Request bodies are read whole before anyone is authenticated (a webhook delivery's up to 25 MiB), so
/// the bytes held for bodies being read are bounded: `total` across the replica
/// (`CP_BODY_BYTES_IN_FLIGHT`) and `perSource` for each source (`CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE`):
/// a webhook endpoint for deliveries (GitHub sends every tenant's from the same addresses), the client
/// address for everything else. A body that does not fit is refused with 503 and `Retry-After` before
/// it is read, so one tenant's flood of large bodies holds at most its source's share.
final class BodyBudget: Sendable {
    /// Bytes held for one request until it has been answered.
    struct Hold: Sendable {
        fileprivate let budget: BodyBudget
        fileprivate let source: String
        fileprivate let bytes: Int

        /// Gives the bytes back; call it exactly once.
        func release() { budget.give(bytes, source: source) }
    }

    let total: Int
    let perSource: Int
    private let held = Mutex<(total: Int, sources: [String: Int])>((0, [:]))

    init(total: Int, perSource: Int) {
        self.total = total
        self.perSource = perSource
    }

    /// Holds `bytes` for `source`, or nil when that would pass either bound.
    func take(_ bytes: Int, source: String) -> Hold? {
        let taken = held.withLock { held -> Bool in
            let mine = held.sources[source, default: 0]
            guard held.total + bytes <= total, mine + bytes <= perSource else { return false }
            held.total += bytes
            held.sources[source] = mine + bytes
            return true
        }
        return taken ? Hold(budget: self, source: source, bytes: bytes) : nil
    }

    /// What is held now, across the replica.
    var inFlight: Int { held.withLock { $0.total } }

    fileprivate func give(_ bytes: Int, source: String) {
        held.withLock { held in
            held.total -= bytes
            let left = held.sources[source, default: 0] - bytes
            held.sources[source] = left > 0 ? left : nil
        }
    }
}
