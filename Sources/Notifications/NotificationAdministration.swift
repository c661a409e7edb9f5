import Foundation
import Persistence
import Providers
import Tenancy

/// Where a tenant's events go, set by its people: a URL the outbound guard lets through (the shape provider
/// base URLs must have, at most 2048 visible ASCII characters), each event named once (all of them when
/// none is named), on or off, the signing secret made on the first setting and on request; each change
/// audited. Reading answers the settings with the latest delivery attempts.
public struct NotificationAdministration: Sendable {
    let database: Database
    let store: NotificationStore
    let addressGuard: OutboundAddressGuard
    let audit = AuditLog()
    /// How many of the latest delivery attempts a read shows.
    public static let shownAttempts = 50

    public init(database: Database, store: NotificationStore, addressGuard: OutboundAddressGuard) {
        self.database = database
        self.store = store
        self.addressGuard = addressGuard
    }

    /// The tenant's settings and its latest delivery attempts.
    public func read(tenantID: TenantID) async throws -> (NotificationSettings, [NotificationAttemptRecord]) {
        try await database.withTenant(tenantID) { transaction in
            guard let settings = try await store.get(in: transaction) else {
                throw Refusal.notFound("notification settings")
            }
            return (settings, try await store.attempts(limit: Self.shownAttempts, in: transaction))
        }
    }

    /// Sets where events go; `events` nil names every event. Answers as `read` does.
    public func put(
        url: String, events: [NotificationEventType]?, active: Bool, rotateSecret: Bool, tenantID: TenantID,
        recordedAs caller: AuditLog.Caller
    ) async throws -> (NotificationSettings, [NotificationAttemptRecord]) {
        let url = try addressGuard.callbackURL(url, field: "url")
        let events = events ?? NotificationEventType.allCases
        // Named once each, they are at most every event there is.
        guard !events.isEmpty else {
            throw Refusal.invalid("events must name 1 to \(NotificationEventType.allCases.count) events.")
        }
        guard Set(events).count == events.count else { throw Refusal.invalid("events must name each event once.") }
        return try await database.withTenant(tenantID) { transaction in
            let settings = try await store.put(
                url: url, events: events.sorted { $0.rawValue < $1.rawValue }, active: active, rotate: rotateSecret,
                in: transaction)
            try await audit.record(
                caller.entry("notifications.put", targetType: "notifications", targetID: "\(tenantID)"), in: transaction
            )
            return (settings, try await store.attempts(limit: Self.shownAttempts, in: transaction))
        }
    }
}
