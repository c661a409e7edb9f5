import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Notifications
import Persistence
import Providers
import Tenancy

/// Where the tenant's events go, over HTTP: read the settings with the latest delivery attempts, or set
/// them (the signing secret shown when made or rotated, never again). The rules are
/// `NotificationAdministration`'s.
struct NotificationsHandler: Sendable {
    let administration: NotificationAdministration

    func getNotifications(_ input: Operations.GetNotifications.Input) async throws
        -> Operations.GetNotifications.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let (settings, attempts) = try await administration.read(tenantID: tenantID)
        return .ok(.init(body: .json(.init(settings, attempts: attempts))))
    }

    func putNotifications(_ input: Operations.PutNotifications.Input) async throws
        -> Operations.PutNotifications.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the settings as JSON.") }
        let (settings, attempts) = try await administration.put(
            url: body.url, events: body.events?.compactMap { NotificationEventType(rawValue: $0.rawValue) },
            active: body.active ?? true, rotateSecret: body.rotateSecret ?? false, tenantID: tenantID,
            recordedAs: try scope.auditCaller())
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
