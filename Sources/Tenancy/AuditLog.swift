import Foundation
import PostgresNIO

/// The append-only record of every mutating call on a tenant.
public struct AuditLog: Sendable {
    /// Who made a call.
    public enum ActorType: String, Sendable { case apiKey = "api_key", user, `operator` }

    /// One recorded call.
    public struct Event: Sendable, Equatable {
        public let id: Int64
        public let actorType: ActorType
        public let actorID: String
        public let action: String
        public let targetType: String
        public let targetID: String
        public let requestID: String?
        public let occurredAt: Date
    }

    /// What the caller knows about a call it is about to record.
    public struct Entry: Sendable {
        public let actorType: ActorType
        public let actorID: String
        public let action: String
        public let targetType: String
        public let targetID: String
        public let requestID: String?

        public init(
            actorType: ActorType, actorID: String, action: String, targetType: String, targetID: String,
            requestID: String?
        ) {
            self.actorType = actorType
            self.actorID = actorID
            self.action = action
            self.targetType = targetType
            self.targetID = targetID
            self.requestID = requestID
        }
    }

    public init() {}

    /// Records `entry` in the same transaction as the change it describes.
    public func record(_ entry: Entry, tenantID: TenantID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, request_id)
            VALUES (\(tenantID.rawValue), \(entry.actorType.rawValue), \(entry.actorID), \(entry.action),
                    \(entry.targetType), \(entry.targetID), \(entry.requestID))
            """, logger: connection.logger)
    }

    /// The tenant's events, newest first.
    public func list(tenantID: TenantID, limit: Int, after cursor: PageCursor?, on connection: PostgresConnection)
        async throws -> Page<Event>
    {
        let before = cursor.flatMap { Int64($0.id) } ?? Int64.max
        let rows = try await connection.query(
            """
            SELECT event_id, actor_type, actor_id, action, target_type, target_id, request_id, occurred_at
            FROM audit_events WHERE tenant_id = \(tenantID.rawValue) AND event_id < \(before)
            ORDER BY event_id DESC LIMIT \(limit + 1)
            """, logger: connection.logger)
        var events: [Event] = []
        for try await row in rows.decode((Int64, String, String, String, String, String, String?, Date).self) {
            events.append(
                Event(
                    id: row.0, actorType: ActorType(rawValue: row.1) ?? .operator, actorID: row.2, action: row.3,
                    targetType: row.4, targetID: row.5, requestID: row.6, occurredAt: row.7))
        }
        return Page(fetched: events, limit: limit) { PageCursor(time: $0.occurredAt, id: String($0.id)) }
    }
}
