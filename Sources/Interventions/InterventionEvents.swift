import Foundation
import Gateway
import Notifications
import Persistence
import PostgresNIO

/// Queues what an intervention sends, in the transaction that makes or escalates it: the signed event
/// to the tenant's notification URL (`intervention.created`, or `intervention.escalated` for the manager)
/// and, when the tenant set one, a message for its Slack-compatible incoming webhook. Both ride the
/// notification sender's durable queue (retries, attempt log, address guard).
enum InterventionEvents {
    static func queue(
        _ record: InterventionRecord, audience: InterventionAudience, message: String, recipientHandle: String?,
        recipientEmail: String?, in transaction: TenantTransaction
    ) async throws {
        let type: NotificationEventType = audience == .owner ? .interventionCreated : .interventionEscalated
        var recipient: [String: Any] = ["role": audience.rawValue]
        recipient["email"] = recipientEmail
        recipient["chat_handle"] = recipientHandle
        var data: [String: Any] = [
            "intervention_id": record.id.uuidString.lowercased(), "status": record.status,
            "repository": record.repository, "sha": record.sha, "commitment": record.commitment,
            "due_date": record.dueDate, "message": message, "recipient": recipient,
            "outcome_url": "/v1/interventions/\(record.id.uuidString.lowercased())/outcome",
        ]
        data["person"] = record.person
        data["owner_handle"] = record.ownerHandle
        data["manager_email"] = record.managerEmail
        let payload = PipelineAnswer.json(data)
        let slack = PipelineAnswer.json(
            slackMessage(record, audience: audience, message: message, handle: recipientHandle))
        // One statement: the Slack message (when Slack is set up and interventions are on) is written by a
        // data-modifying WITH, which runs to completion whether or not the main query reads it.
        try await transaction.query(
            """
            WITH slack AS (
                INSERT INTO notification_events (tenant_id, event_id, type, payload, channel)
                SELECT s.tenant_id, gen_random_uuid(), \(type.rawValue), \(slack)::jsonb, 'slack'
                FROM intervention_settings s
                WHERE s.tenant_id = \(transaction.tenantID.rawValue) AND s.enabled
                  AND s.slack_webhook_sealed IS NOT NULL
            )
            SELECT notification_emit(\(transaction.tenantID.rawValue), \(type.rawValue), \(payload)::jsonb,
                                     gen_random_uuid(), NULL::bytea)
            """)
    }

    /// An incoming-webhook message: `text` (what notifications show) and blocks with the details. A Slack
    /// user id as handle becomes a mention. What came from a commit message or a model is escaped, so a
    /// crafted promise cannot ping `<!channel>` or forge a link.
    static func slackMessage(
        _ record: InterventionRecord, audience: InterventionAudience, message: String, handle: String?
    ) -> [String: Any] {
        let mention = handle.map { slackMention($0) + " " } ?? ""
        let text = mention + slackEscaped(message)
        let context =
            "\(audience == .owner ? "Commitment" : "Escalated commitment") in *\(slackEscaped(record.repository))* "
            + "(`\(record.sha.prefix(7))`), due \(record.dueDate) · intervention `\(record.id.uuidString.lowercased())`"
        return [
            "text": text,
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": text]],
                ["type": "context", "elements": [["type": "mrkdwn", "text": context]]],
            ],
        ]
    }

    /// `<@U024BE7LH>` for a Slack member id, `@name` otherwise.
    static func slackMention(_ handle: String) -> String {
        let isMemberID =
            handle.count >= 9 && (handle.hasPrefix("U") || handle.hasPrefix("W"))
            && handle.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
        if isMemberID { return "<@\(handle)>" }
        let name = slackEscaped(handle)
        return name.hasPrefix("@") ? name : "@\(name)"
    }

    /// Text with Slack's three control characters escaped (`&`, `<`, `>`), as its formatting rules ask.
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
