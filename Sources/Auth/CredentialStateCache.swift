import Foundation
import Synchronization
import Tenancy

/// What the database said about a credential (an API key or a user) and its tenant, kept per replica
/// so the common request path needs no round trip. Entries are dropped when Postgres announces a change
/// (`LISTEN/NOTIFY`), and in any case after `ttl`, a backstop should a notification ever be missed.
public final class CredentialStateCache: Sendable {
    /// The stored facts.
    public struct State: Sendable, Equatable {
        public let tenantID: TenantID
        /// False when the key or user does not exist (any more).
        public let exists: Bool
        public let revokedAt: Date?
        public let tenantStatus: Tenant.Status?
    }

    private struct Entry {
        let state: State
        let fetchedAt: ContinuousClock.Instant
    }

    private let entries = Mutex([UUID: Entry]())
    public let ttl: Duration

    public init(ttl: Duration = .seconds(30)) { self.ttl = ttl }

    public func state(for credential: UUID) -> State? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[credential] else { return nil }
            if now - entry.fetchedAt > ttl {
                entries[credential] = nil
                return nil
            }
            return entry.state
        }
    }

    public func store(_ state: State, for credential: UUID) {
        let entry = Entry(state: state, fetchedAt: .now)
        entries.withLock { entries in
            if entries.count >= 100_000 { entries.removeAll(keepingCapacity: true) }
            entries[credential] = entry
        }
    }

    /// Applies a message from the invalidation channel: `key:<uuid>`, `user:<uuid>` or `tenant:<uuid>`.
    public func apply(notification payload: String) {
        let parts = payload.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else {
            invalidateAll()
            return
        }
        switch parts[0] {
        case "key", "user": invalidate(credential: id)
        case "tenant": invalidate(tenant: TenantID(id))
        default: invalidateAll()
        }
    }

    public func invalidate(credential: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: credential) }
    }

    public func invalidate(tenant: TenantID) {
        entries.withLock { entries in entries = entries.filter { $0.value.state.tenantID != tenant } }
    }

    public func invalidateAll() {
        entries.withLock { $0.removeAll() }
    }
}
