import Foundation
import Persistence
import Synchronization
import Tenancy

/// What the database said about a credential (an API key or a user) and its tenant, kept per replica
/// so the common request path needs no round trip. Entries are dropped when Postgres announces a change
/// (`LISTEN/NOTIFY`), and in any case after `ttl`, a backstop should a notification ever be missed.
///
/// Two rules keep a revocation from being missed. A state read from Postgres is stored only if no
/// invalidation arrived since the read began (`generation`), so a read that raced a revocation cannot
/// outlive it. And the cache is trusted only while the listener's heartbeat is on time: when the
/// listener is deaf (connection lost, half-open), every request reads Postgres until it hears again.
public final class CredentialStateCache: Sendable {
    /// The stored facts.
    public struct State: Sendable, Equatable {
        public let tenantID: TenantID
        /// False when the key or user does not exist (any more).
        public let exists: Bool
        public let revokedAt: Date?
        public let tenantStatus: Tenant.Status?
        /// A user's role as it is now (nil for keys): a role change applies to tokens already handed out.
        public let role: Role?
        /// The user a session belongs to (nil for keys): a change to the user drops their sessions' entries.
        public let userID: UUID?

        public init(
            tenantID: TenantID, exists: Bool, revokedAt: Date?, tenantStatus: Tenant.Status?, role: Role? = nil,
            userID: UUID? = nil
        ) {
            self.tenantID = tenantID
            self.exists = exists
            self.revokedAt = revokedAt
            self.tenantStatus = tenantStatus
            self.role = role
            self.userID = userID
        }
    }

    private struct Entry {
        let state: State
        let fetchedAt: ContinuousClock.Instant
    }

    private struct Storage {
        var entries: [UUID: Entry] = [:]
        var generation: UInt64 = 0
        /// When the listener last proved it hears notifications; nil until it first does.
        var lastHeartbeat: ContinuousClock.Instant?
    }

    private let storage = Mutex(Storage())
    public let ttl: Duration
    /// How old the last heartbeat may be before the cache is bypassed.
    public let heartbeatTolerance: Duration
    private static let capacity = 100_000

    public init(ttl: Duration = .seconds(30), heartbeatTolerance: Duration = .milliseconds(750)) {
        self.ttl = ttl
        self.heartbeatTolerance = heartbeatTolerance
    }

    /// The invalidation count; read it before fetching a state and hand it to `store`.
    public var generation: UInt64 { storage.withLock { $0.generation } }

    /// How long ago the freshest heartbeat heard was sent (nil before the first): what
    /// `controlplane_invalidation_heartbeat_age_seconds` reports.
    public var heartbeatAge: Duration? {
        storage.withLock { storage in storage.lastHeartbeat.map { ContinuousClock.now - $0 } }
    }

    /// Whether the listener is hearing notifications now, so cached states can be trusted.
    public var isTrusted: Bool {
        let now = ContinuousClock.now
        return storage.withLock { storage in
            guard let last = storage.lastHeartbeat else { return false }
            return now - last <= heartbeatTolerance
        }
    }

    public func state(for credential: UUID) -> State? {
        let now = ContinuousClock.now
        return storage.withLock { storage in
            guard let last = storage.lastHeartbeat, now - last <= heartbeatTolerance else { return nil }
            guard let entry = storage.entries[credential] else { return nil }
            if now - entry.fetchedAt > ttl {
                storage.entries[credential] = nil
                return nil
            }
            return entry.state
        }
    }

    /// Stores `state` unless an invalidation arrived after `generation` was read.
    @discardableResult
    public func store(_ state: State, for credential: UUID, readAt generation: UInt64) -> Bool {
        let entry = Entry(state: state, fetchedAt: .now)
        return storage.withLock { storage in
            guard storage.generation == generation else { return false }
            if storage.entries.count >= Self.capacity { storage.entries.removeAll(keepingCapacity: true) }
            storage.entries[credential] = entry
            return true
        }
    }

    /// Records that the listener heard its own heartbeat, sent at `instant`: everything invalidated before
    /// then has been applied. Never moves backwards.
    public func heartbeat(at instant: ContinuousClock.Instant = .now) {
        storage.withLock { storage in
            if let last = storage.lastHeartbeat, last > instant { return }
            storage.lastHeartbeat = instant
        }
    }

    /// Marks the listener deaf: nothing cached is trusted until the next heartbeat.
    public func listenerLost() {
        storage.withLock { storage in
            storage.lastHeartbeat = nil
            storage.generation &+= 1
            storage.entries.removeAll()
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
        case "key", "session": invalidate(credential: id)
        case "user": invalidate(user: id)
        case "tenant": invalidate(tenant: TenantID(id))
        default: invalidateAll()
        }
    }

    public func invalidate(credential: UUID) {
        storage.withLock { storage in
            storage.generation &+= 1
            storage.entries[credential] = nil
        }
    }

    /// Drops the user's own entry and those of their sessions.
    public func invalidate(user: UUID) {
        storage.withLock { storage in
            storage.generation &+= 1
            storage.entries[user] = nil
            storage.entries = storage.entries.filter { $0.value.state.userID != user }
        }
    }

    public func invalidate(tenant: TenantID) {
        storage.withLock { storage in
            storage.generation &+= 1
            storage.entries = storage.entries.filter { $0.value.state.tenantID != tenant }
        }
    }

    public func invalidateAll() {
        storage.withLock { storage in
            storage.generation &+= 1
            storage.entries.removeAll()
        }
    }
}
