import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Notifications
import Persistence
import Providers
import Tenancy

/// Where the tenant's events go: read the settings with the latest delivery attempts, or set them (the
/// signing secret shown when made or rotated, never again). The URL passes the address guard that
/// provider base URLs pass.
struct NotificationsHandler: Sendable {
    let database: Database
    let store: NotificationStore
    let addressGuard: OutboundAddressGuard
    let audit = AuditLog()
    static let shownAttempts = 50

    func getNotifications(_ input: Operations.GetNotifications.Input) async throws
        -> Operations.GetNotifications.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let (settings, attempts) = try await database.withTenant(tenantID) { transaction in
            guard let settings = try await store.get(in: transaction) else {
                throw APIError.notFound("notification settings")
            }
            return (settings, try await store.attempts(limit: Self.shownAttempts, in: transaction))
        }
        return .ok(.init(body: .json(.init(settings, attempts: attempts))))
    }

    func putNotifications(_ input: Operations.PutNotifications.Input) async throws
        -> Operations.PutNotifications.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the settings as JSON.") }
        let url: String
        do {
            url = try addressGuard.validate(baseURL: body.url).absoluteString
        } catch let refused as AddressRefused {
            let reason = refused.reason.replacingOccurrences(of: "base_url", with: "url")
            throw APIError.invalid(reason.prefix(1).uppercased() + reason.dropFirst() + ".")
        }
        guard url.utf8.count <= 2048, url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw APIError.invalid("url must be at most 2048 visible ASCII characters.")
        }
        let events = (body.events ?? Components.Schemas.NotificationEvent.allCases).compactMap {
            NotificationEventType(rawValue: $0.rawValue)
        }
        guard !events.isEmpty, events.count <= NotificationEventType.allCases.count else {
            throw APIError.invalid("events must name 1 to \(NotificationEventType.allCases.count) events.")
        }
        guard Set(events).count == events.count else { throw APIError.invalid("events must name each event once.") }
        let entry = try scope.auditEntry("notifications.put", targetType: "notifications", targetID: "\(tenantID)")
        let (settings, attempts) = try await database.withTenant(tenantID) { transaction in
            let settings = try await store.put(
                url: url, events: events.sorted { $0.rawValue < $1.rawValue }, active: body.active ?? true,
                rotate: body.rotateSecret ?? false, in: transaction)
            try await audit.record(entry, in: transaction)
            return (settings, try await store.attempts(limit: Self.shownAttempts, in: transaction))
        }
        return .ok(.init(body: .json(.init(settings, attempts: attempts))))
    }
}

extension Components.Schemas.Notifications {
    init(_ settings: NotificationSettings, attempts: [NotificationAttemptRecord]) {
        self.init(
            url: settings.url, events: settings.events.compactMap { .init(rawValue: $0.rawValue) },
            active: settings.active, secret: settings.secret, pending: settings.pending, failed: settings.failed,
            createdAt: settings.createdAt, updatedAt: settings.updatedAt,
            attempts: attempts.map {
                .init(
                    eventId: $0.eventID.uuidString.lowercased(), event: $0.event, attempt: $0.attempt,
                    attemptedAt: $0.attemptedAt, statusCode: $0.statusCode, error: $0.error, durationMs: $0.durationMs,
                    outcome: .init(rawValue: $0.outcome))
            })
    }
}
