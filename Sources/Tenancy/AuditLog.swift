import Foundation
import Persistence
import PostgresNIO

/// The append-only record of every mutating call on a tenant.
public struct AuditLog: Sendable {
    /// Who made a call.
    public enum ActorType: String, Sendable {
        case apiKey = "api_key"
        case user
        case `operator`
        /// The platform itself: the worker, webhook ingest, housekeeping.
        case system

        /// An actor as `created_by`, idempotency namespaces and outcomes name it: `api_key:<id>`, `user:<id>`.
        public func name(_ id: String) -> String { "\(rawValue):\(id)" }
    }

    /// One recorded call: the entry as it was recorded, numbered and dated.
    public struct Event: Sendable {
        public let id: Int64
        public let entry: Entry
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
        /// The caller's address as the trusted proxies report it, for calls made over HTTP.
        public let clientAddress: String?
        /// What changed, in a few named values (e.g. `from` and `to` of a role change).
        public let details: [String: String]

        public init(
            actorType: ActorType, actorID: String, action: String, targetType: String, targetID: String,
            requestID: String?, clientAddress: String? = nil, details: [String: String] = [:]
        ) {
            self.actorType = actorType
            self.actorID = actorID
            self.action = action
            self.targetType = targetType
            self.targetID = targetID
            self.requestID = requestID
            self.clientAddress = clientAddress.map { String($0.utf8.prefix(64)) ?? "" }
            self.details = details
        }

        /// This entry with `details` added.
        public func with(details more: [String: String]) -> Entry {
            Entry(
                actorType: actorType, actorID: actorID, action: action, targetType: targetType, targetID: targetID,
                requestID: requestID, clientAddress: clientAddress, details: details.merging(more) { $1 })
        }

        /// An entry written by the platform itself (`component` is e.g. `worker` or `webhook-ingest`).
        public static func system(
            _ component: String, action: String, targetType: String, targetID: String, requestID: String? = nil
        ) -> Entry {
            Entry(
                actorType: .system, actorID: component, action: action, targetType: targetType, targetID: targetID,
                requestID: requestID)
        }
    }

    /// Who makes the calls a service records: the actor and, for calls made over HTTP, the request. A service
    /// takes one of these and writes its own entries, so the handler that calls it decides nothing about them.
    public struct Caller: Sendable {
        public let actorType: ActorType
        public let actorID: String
        public let requestID: String?
        public let clientAddress: String?

        public init(actorType: ActorType, actorID: String, requestID: String?, clientAddress: String?) {
            self.actorType = actorType
            self.actorID = actorID
            self.requestID = requestID
            self.clientAddress = clientAddress
        }

        /// A person acting for themselves (signing up, in or out, joining), before any token names them.
        public static func user(_ id: UUID, requestID: String?, clientAddress: String?) -> Caller {
            Caller(actorType: .user, actorID: id.text, requestID: requestID, clientAddress: clientAddress)
        }

        /// The caller as `created_by` names it.
        public var name: String { actorType.name(actorID) }

        /// The entry this caller makes by doing `action` to a target.
        public func entry(
            _ action: String, targetType: String, targetID: String, details: [String: String] = [:]
        ) -> Entry {
            Entry(
                actorType: actorType, actorID: actorID, action: action, targetType: targetType, targetID: targetID,
                requestID: requestID, clientAddress: clientAddress, details: details)
        }
    }

    public init() {}

    private static let keyset = KeysetQuery(
        table: "audit_events",
        columns:
            "event_id, actor_type, actor_id, action, target_type, target_id, request_id, occurred_at, client_address, details::text",
        timeColumn: "occurred_at", idColumn: "event_id")

    /// Records `entry` in the same transaction as the change it describes.
    public func record(_ entry: Entry, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            """
            INSERT INTO audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, request_id,
                                      client_address, details)
            VALUES (\(transaction.tenantID.rawValue), \(entry.actorType.rawValue), \(entry.actorID), \(entry.action),
                    \(entry.targetType), \(entry.targetID), \(entry.requestID), \(entry.clientAddress),
                    \(try Self.encode(entry.details))::jsonb)
            """)
    }

    /// The tenant's events, newest first.
    public func list(limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction) async throws
        -> Page<Event>
    {
        guard let bound = cursor.bound(parse: { Int64($0) }, top: Int64.max) else { throw InvalidCursor() }
        let rows = try await transaction.query(
            try Self.keyset.page(
                filters: [("tenant_id", transaction.tenantID.rawValue)], below: bound, limit: limit))
        var events: [Event] = []
        for try await row in rows.decode(
            (Int64, String, String, String, String, String, String?, Date, String?, String).self)
        {
            let entry = Entry(
                actorType: ActorType(rawValue: row.1) ?? .system, actorID: row.2, action: row.3, targetType: row.4,
                targetID: row.5, requestID: row.6, clientAddress: row.8, details: Self.decode(row.9))
            events.append(Event(id: row.0, entry: entry, occurredAt: row.7))
        }
        return Page(fetched: events, limit: limit) { PageCursor(time: $0.occurredAt, id: String($0.id)) }
    }
}

extension AuditLog {
    static func encode(_ details: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(details), as: UTF8.self)
    }

    static func decode(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }
}

/// A cursor whose position does not fit the list it was sent to.
public struct InvalidCursor: Error, Sendable {
    public init() {}
}
