import Foundation
import Persistence
import Synchronization

/// The webhook endpoints this replica has found to exist, each with its tenant, bounded in count. A
/// delivery's body is read under its tenant's share of the body budget only once its endpoint is known
/// here; a delivery to an id never seen (made up, or the first to an endpoint since this replica started)
/// counts against its client address instead, so made-up ids cannot each claim a share of their own, and
/// a tenant's many endpoints share one.
public final class KnownEndpoints: Sendable {
    private let known = Mutex<[UUID: TenantID]>([:])
    /// The most ids held; past it the map starts over (the ids are learned again from their deliveries).
    public let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    /// The tenant of `endpointID`, when this replica has seen the endpoint exist.
    public func tenant(of endpointID: UUID) -> TenantID? {
        known.withLock { $0[endpointID] }
    }

    /// Notes that `endpointID` exists and belongs to `tenant`.
    public func insert(_ endpointID: UUID, tenant: TenantID) {
        known.withLock { known in
            if known.count >= capacity, known[endpointID] == nil { known.removeAll(keepingCapacity: true) }
            known[endpointID] = tenant
        }
    }
}
