import Foundation
import Synchronization

/// The webhook endpoints this replica has found to exist, bounded in count. A delivery's body is read
/// under its endpoint's own share of the body budget only once the endpoint is known here; a delivery to
/// an id never seen (made up, or the first to an endpoint since this replica started) counts against its
/// client address instead, so made-up ids cannot each claim a share of their own.
public final class KnownEndpoints: Sendable {
    private let known = Mutex<Set<UUID>>([])
    /// The most ids held; past it the set starts over (the ids are learned again from their deliveries).
    public let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    public func contains(_ endpointID: UUID) -> Bool {
        known.withLock { $0.contains(endpointID) }
    }

    /// Notes that `endpointID` exists.
    public func insert(_ endpointID: UUID) {
        known.withLock { known in
            if known.count >= capacity, !known.contains(endpointID) { known.removeAll(keepingCapacity: true) }
            known.insert(endpointID)
        }
    }
}
