import Foundation
import Persistence
import PostgresNIO

/// The events a tenant can be notified of.
public enum NotificationEventType: String, Sendable, CaseIterable {
    case analysisCompleted = "analysis.completed"
    case budgetThresholdCrossed = "budget.threshold_crossed"
    case budgetExhausted = "budget.exhausted"
    case jobDeadLettered = "job.dead_lettered"
    case invitationCreated = "invitation.created"
    /// An overdue commitment's intervention, sent to its owner.
    case interventionCreated = "intervention.created"
    /// The same intervention, unanswered after the tenant's delay, sent to the owner's manager.
    case interventionEscalated = "intervention.escalated"
}

/// Where a tenant's events go.
public struct NotificationSettings: Sendable, Equatable {
    public let url: String
    public let events: [NotificationEventType]
    public let active: Bool
    public let createdAt: Date
    public let updatedAt: Date
    /// Shown once: when the settings were made, or the secret rotated, by the call that answers them.
    public var secret: String?
    public var pending = 0
    public var failed = 0
}

/// One attempt to deliver an event, as its log shows it.
public struct NotificationAttemptRecord: Sendable, Equatable {
    public let eventID: UUID
    public let event: String
    public let attempt: Int
    public let attemptedAt: Date
    public let statusCode: Int?
    public let error: String?
    public let durationMs: Int
    /// `delivered`, `retrying` or `failed`.
    public let outcome: String
}

/// The tenant's notification settings (the secret sealed at rest, bound to the tenant) and the log of
/// delivery attempts, in tenant transactions.
public struct NotificationStore: Sendable {
    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    public static func sealContext(_ tenant: TenantID) -> String { "notification-secret:\(tenant)" }

    public static func eventSecretContext(_ tenant: TenantID, event: UUID) -> String {
        "notification-event-secret:\(tenant):\(event.uuidString.lowercased())"
    }

    /// Queues `type` with `data` (a JSON object) when the tenant's URL takes it; answers whether it did.
    /// `secret` (e.g. an invitation token) is sealed beside the payload, bound to the event, and the
    /// sender adds it to `data` as `field` only in the body it signs and sends.
    @discardableResult
    public func emit(
        _ type: NotificationEventType, data: String, secret: (field: String, value: String)? = nil,
        in transaction: TenantTransaction
    ) async throws -> Bool {
        let tenant = transaction.tenantID
        let eventID = UUID()
        let sealed = try secret.map { secret in
            let envelope = try JSONEncoder().encode([secret.field: secret.value])
            return Data(try box.seal(envelope, context: Self.eventSecretContext(tenant, event: eventID)))
        }
        let rows = try await transaction.query(
            """
            SELECT notification_emit(\(tenant.rawValue), \(type.rawValue), \(data)::jsonb, \(eventID), \(sealed))
            """)
        var queued = false
        for try await emitted in rows.decode(Bool.self) { queued = emitted }
        return queued
    }

    /// The payload the receiver gets: the stored one with the sealed secret's fields added to `data`.
    public func payload(
        _ stored: String, sealedSecret: ByteBuffer?, tenantID: TenantID, eventID: UUID
    ) throws -> String {
        guard let sealedSecret else { return stored }
        let opened = try box.open(
            Array(buffer: sealedSecret), context: Self.eventSecretContext(tenantID, event: eventID))
        guard var object = try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any],
            var data = object["data"] as? [String: Any],
            let fields = try JSONSerialization.jsonObject(with: Data(opened)) as? [String: Any]
        else { return stored }
        data.merge(fields) { $1 }
        object["data"] = data
        return String(
            decoding: try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self)
    }

    /// Makes or changes the settings; a secret is made with them, or anew when `rotate`, and answered then.
    public func put(
        url: String, events: [NotificationEventType], active: Bool, rotate: Bool, in transaction: TenantTransaction
    ) async throws -> NotificationSettings {
        let tenant = transaction.tenantID
        let secret = NotificationSignature.newSecret()
        let sealed = Data(try box.seal(Data(secret.utf8), context: Self.sealContext(tenant)))
        let names = events.map(\.rawValue)
        let rows = try await transaction.query(
            """
            INSERT INTO notification_settings (tenant_id, url, events, active, secret_sealed)
            VALUES (\(tenant.rawValue), \(url), \(names), \(active), \(sealed))
            ON CONFLICT (tenant_id) DO UPDATE
            SET url = EXCLUDED.url, events = EXCLUDED.events, active = EXCLUDED.active, updated_at = now(),
                secret_sealed = CASE WHEN \(rotate) THEN EXCLUDED.secret_sealed
                                     ELSE notification_settings.secret_sealed END
            RETURNING created_at, updated_at, (xmax = 0) AS created
            """)
        var settings: NotificationSettings?
        for try await row in rows.decode((Date, Date, Bool).self) {
            settings = NotificationSettings(
                url: url, events: events, active: active, createdAt: row.0, updatedAt: row.1,
                secret: row.2 || rotate ? secret : nil)
        }
        guard var settings else { throw NotificationSettingsMissing() }
        (settings.pending, settings.failed) = try await counts(in: transaction)
        return settings
    }

    /// The settings without their secret; nil when the tenant has none.
    public func get(in transaction: TenantTransaction) async throws -> NotificationSettings? {
        let rows = try await transaction.query(
            """
            SELECT url, events, active, created_at, updated_at FROM notification_settings
            WHERE tenant_id = \(transaction.tenantID.rawValue)
            """)
        var settings: NotificationSettings?
        for try await row in rows.decode((String, [String], Bool, Date, Date).self) {
            settings = NotificationSettings(
                url: row.0, events: row.1.compactMap(NotificationEventType.init(rawValue:)), active: row.2,
                createdAt: row.3, updatedAt: row.4)
        }
        guard var settings else { return nil }
        (settings.pending, settings.failed) = try await counts(in: transaction)
        return settings
    }

    /// The URL and signing key of the tenant's active settings, for the sender.
    func target(in transaction: TenantTransaction) async throws -> (url: String, secret: String)? {
        let rows = try await transaction.query(
            """
            SELECT url, secret_sealed FROM notification_settings
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND active
            """)
        var target: (String, String)?
        for try await row in rows.decode((String, ByteBuffer).self) {
            let secret = try box.open(Array(buffer: row.1), context: Self.sealContext(transaction.tenantID))
            target = (row.0, String(decoding: secret, as: UTF8.self))
        }
        return target
    }

    /// The latest attempts, newest first.
    public func attempts(limit: Int, in transaction: TenantTransaction) async throws -> [NotificationAttemptRecord] {
        let rows = try await transaction.query(
            """
            SELECT a.event_id, e.type, a.attempt, a.attempted_at, a.status_code, a.error, a.duration_ms,
                   CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'delivered'
                        WHEN e.status = 'failed' AND a.attempt = e.attempts THEN 'failed' ELSE 'retrying' END
            FROM notification_attempts a
            JOIN notification_events e ON e.tenant_id = a.tenant_id AND e.event_id = a.event_id
            WHERE a.tenant_id = \(transaction.tenantID.rawValue)
            ORDER BY a.attempted_at DESC, a.attempt DESC LIMIT \(limit)::integer
            """)
        var attempts: [NotificationAttemptRecord] = []
        for try await row in rows.decode((UUID, String, Int32, Date, Int32?, String?, Int32, String).self) {
            attempts.append(
                NotificationAttemptRecord(
                    eventID: row.0, event: row.1, attempt: Int(row.2), attemptedAt: row.3,
                    statusCode: row.4.map(Int.init),
                    error: row.5, durationMs: Int(row.6), outcome: row.7))
        }
        return attempts
    }

    private func counts(in transaction: TenantTransaction) async throws -> (pending: Int, failed: Int) {
        let rows = try await transaction.query(
            """
            SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
            FROM notification_events WHERE tenant_id = \(transaction.tenantID.rawValue)
            """)
        var counts = (0, 0)
        for try await row in rows.decode((Int64, Int64).self) { counts = (Int(row.0), Int(row.1)) }
        return counts
    }
}

/// The settings row was not written (cannot happen short of a broken database).
struct NotificationSettingsMissing: Error {}
