import Foundation
import Persistence
import PostgresNIO
import Tenancy

/// One intervention: a commitment past its due day that no later commit closed, the message sent about
/// it, whom it went to, and what the receiving side answered.
public struct InterventionRecord: Sendable, Equatable {
    public let id: UUID
    public let analysisID: UUID
    public let repository: String
    public let sha: String
    /// The commitment's owner: the commit author's email.
    public let person: String?
    public let commitment: String
    /// `YYYY-MM-DD`.
    public let dueDate: String
    /// `open`, `escalated`, `accepted` or `dismissed`.
    public let status: String
    public let ownerHandle: String?
    public let managerEmail: String?
    public let tone: String?
    public let message: String?
    public let escalationMessage: String?
    public let provider: String?
    public let model: String?
    public let totalTokens: Int64
    public let createdAt: Date
    public let escalateAt: Date?
    public let escalatedAt: Date?
    public let outcomeAt: Date?
}

/// A tenant's intervention settings: whether to send them, in which tone, how long before the manager
/// hears of an unanswered one, and whether a Slack-compatible incoming webhook is set (its URL is a
/// secret: sealed at rest, never answered).
public struct InterventionSettings: Sendable, Equatable {
    public static let tones = ["friendly", "direct", "formal"]
    public var enabled = true
    public var tone = "friendly"
    public var escalationDelaySeconds = 172_800
    public var slackConfigured = false
    public var updatedAt: Date?

    public init() {}
}

/// One week of interventions (weeks start on Monday, UTC).
public struct InterventionWeek: Sendable, Equatable {
    public let week: String
    public let created: Int
    public let escalated: Int
    public let accepted: Int
    public let dismissed: Int
    /// Accepted over answered; nil when none was answered.
    public var acceptanceRate: Double? {
        accepted + dismissed == 0 ? nil : Double(accepted) / Double(accepted + dismissed)
    }
}

/// Interventions and their settings, in tenant transactions.
public struct InterventionStore: Sendable {
    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    /// What the Slack webhook URL is sealed for: this tenant's settings.
    public static func slackContext(_ tenant: TenantID) -> String { "slack-webhook:\(tenant)" }

    private typealias Row = (
        UUID, UUID, String, String, String?, String, String, String, String?, String?, String?, String?, String?,
        String?, String?, Int64, Date, Date?, Date?, Date?
    )
    static let columns = """
        intervention_id, analysis_id, repository, sha, author_email, commitment, due_date::text, status, owner_handle, \
        manager_email, tone, message, escalation_message, provider, model, total_tokens, created_at, escalate_at, \
        escalated_at, outcome_at
        """
    private static let keyset = KeysetQuery(
        table: "interventions", columns: columns, timeColumn: "created_at", idColumn: "intervention_id",
        condition: "created_at IS NOT NULL")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func record(_ row: Row) -> InterventionRecord {
        InterventionRecord(
            id: row.0, analysisID: row.1, repository: row.2, sha: row.3, person: row.4, commitment: row.5,
            dueDate: row.6, status: row.7, ownerHandle: row.8, managerEmail: row.9, tone: row.10, message: row.11,
            escalationMessage: row.12, provider: row.13, model: row.14, totalTokens: row.15, createdAt: row.16,
            escalateAt: row.17, escalatedAt: row.18, outcomeAt: row.19)
    }

    /// What a list keeps: equality on each given field.
    public struct Filter: Sendable {
        public var status: String?
        public var person: String?
        public var repository: String?

        public init(status: String? = nil, person: String? = nil, repository: String? = nil) {
            self.status = status
            self.person = person
            self.repository = repository
        }
    }

    /// The interventions made, newest first.
    public func list(_ filter: Filter, limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction)
        async throws -> Page<InterventionRecord>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        var filters: [(column: String, value: any PostgresEncodable)] = [("tenant_id", transaction.tenantID.rawValue)]
        if let status = filter.status { filters.append(("status", status)) }
        if let person = filter.person { filters.append(("author_email", person.lowercased())) }
        if let repository = filter.repository { filters.append(("lower(repository)", repository.lowercased())) }
        let rows = try await transaction.query(try Self.keyset.page(filters: filters, below: bound, limit: limit))
        var found: [InterventionRecord] = []
        for try await row in rows.decode(Row.self) { found.append(Self.record(row)) }
        return Page(fetched: found, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    /// The record a statement that answers `columns` returns (an `UPDATE ... RETURNING`), if any.
    func changed(_ statement: PostgresQuery, in transaction: TenantTransaction) async throws -> InterventionRecord? {
        for try await row in try await transaction.query(statement).decode(Row.self) { return Self.record(row) }
        return nil
    }

    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> InterventionRecord? {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM interventions
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(id) AND created_at IS NOT NULL
            """)
        for try await row in rows.decode(Row.self) { return Self.record(row) }
        return nil
    }

    /// How reporting an outcome went.
    public enum OutcomeResult: Sendable, Equatable {
        case recorded(InterventionRecord)
        /// The same outcome was reported before: nothing changed.
        case unchanged(InterventionRecord)
        /// Another outcome was reported before.
        case conflict(InterventionRecord)
        case notFound
    }

    /// Records `accepted` or `dismissed` for an open or escalated intervention, once.
    public func report(
        _ outcome: String, for id: UUID, by actor: String, at now: Date, in transaction: TenantTransaction
    ) async throws -> OutcomeResult {
        let updated = try await transaction.query(
            """
            UPDATE interventions SET status = \(outcome), outcome_at = \(now), outcome_by = \(actor),
                next_check_at = 'infinity'
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(id)
              AND status IN ('open', 'escalated')
            RETURNING intervention_id
            """)
        var changed = false
        for try await _ in updated.decode(UUID.self) { changed = true }
        guard let record = try await find(id, in: transaction) else { return .notFound }
        if changed { return .recorded(record) }
        return record.status == outcome ? .unchanged(record) : .conflict(record)
    }

    /// The tenant's settings, or the defaults when it has none.
    public func settings(in transaction: TenantTransaction) async throws -> InterventionSettings {
        let rows = try await transaction.query(
            """
            SELECT enabled, tone, escalation_delay_seconds, slack_webhook_sealed IS NOT NULL, updated_at
            FROM intervention_settings WHERE tenant_id = \(transaction.tenantID.rawValue)
            """)
        var settings = InterventionSettings()
        for try await row in rows.decode((Bool, String, Int32, Bool, Date).self) {
            settings.enabled = row.0
            settings.tone = row.1
            settings.escalationDelaySeconds = Int(row.2)
            settings.slackConfigured = row.3
            settings.updatedAt = row.4
        }
        return settings
    }

    /// What a change of the settings says about the Slack webhook.
    public enum SlackChange: Sendable {
        case keep
        case remove
        case set(String)
    }

    /// Writes the settings (the Slack URL sealed, bound to the tenant) and answers them.
    public func put(
        enabled: Bool, tone: String, escalationDelaySeconds: Int, slack: SlackChange, in transaction: TenantTransaction
    ) async throws -> InterventionSettings {
        let tenant = transaction.tenantID
        var sealed: Data?
        if case .set(let url) = slack {
            sealed = Data(try box.seal(Data(url.utf8), context: Self.slackContext(tenant)))
        }
        let keep: Bool
        if case .keep = slack { keep = true } else { keep = false }
        try await transaction.query(
            """
            INSERT INTO intervention_settings (tenant_id, enabled, tone, escalation_delay_seconds, slack_webhook_sealed)
            VALUES (\(tenant.rawValue), \(enabled), \(tone), \(escalationDelaySeconds)::integer, \(sealed))
            ON CONFLICT (tenant_id) DO UPDATE
            SET enabled = EXCLUDED.enabled, tone = EXCLUDED.tone,
                escalation_delay_seconds = EXCLUDED.escalation_delay_seconds, updated_at = now(),
                slack_webhook_sealed = CASE WHEN \(keep) THEN intervention_settings.slack_webhook_sealed
                                            ELSE EXCLUDED.slack_webhook_sealed END
            """)
        return try await settings(in: transaction)
    }

    /// The Slack webhook URL, opened, for the sender; nil when none is set.
    public func slackURL(in transaction: TenantTransaction) async throws -> String? {
        let rows = try await transaction.query(
            """
            SELECT slack_webhook_sealed FROM intervention_settings
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND slack_webhook_sealed IS NOT NULL
            """)
        for try await sealed in rows.decode(ByteBuffer.self) {
            let opened = try box.open(Array(buffer: sealed), context: Self.slackContext(transaction.tenantID))
            return String(decoding: opened, as: UTF8.self)
        }
        return nil
    }

    /// Totals per week (Monday, UTC) of the interventions made from `from` to `to` (days, included).
    public func weekly(from: String, to: String, in transaction: TenantTransaction) async throws
        -> [InterventionWeek]
    {
        let rows = try await transaction.query(
            """
            SELECT to_char(date_trunc('week', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS week,
                   count(*), count(escalated_at), count(*) FILTER (WHERE status = 'accepted'),
                   count(*) FILTER (WHERE status = 'dismissed')
            FROM interventions
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND created_at IS NOT NULL
              AND created_at >= (\(from)::date)::timestamp AT TIME ZONE 'UTC'
              AND created_at < ((\(to)::date) + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1 ORDER BY 1
            """)
        var weeks: [InterventionWeek] = []
        for try await row in rows.decode((String, Int64, Int64, Int64, Int64).self) {
            weeks.append(
                InterventionWeek(
                    week: row.0, created: Int(row.1), escalated: Int(row.2), accepted: Int(row.3),
                    dismissed: Int(row.4)))
        }
        return weeks
    }
}
