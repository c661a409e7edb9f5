import Foundation
import Persistence
import PostgresNIO

/// A watched commitment as the scheduler reads it.
struct DueCommitment: Sendable {
    let id: UUID
    let repository: String
    let sha: String
    let authorEmail: String?
    let committedAt: Date?
    let commitment: String
    let dueDate: String
    let managerEmail: String?
}

extension InterventionScheduler {
    /// The claimed row with the tenant's settings, the owner's and manager's handles and, for a watched
    /// commitment, a later commit that closes it; nil when the row has moved on since it was claimed. One
    /// statement (`intervention_context`).
    func context(of item: Claimed) async throws -> Context? {
        let rows = try await database.query(
            """
            SELECT repository, sha, author_email, committed_at, commitment, due_date, row_manager_email, enabled,
                   tone, escalation_delay_seconds, slack_configured, settings_updated_at, owner_handle,
                   owner_manager, manager_handle, later_shas, later_subjects
            FROM intervention_context(\(item.tenantID.rawValue), \(item.id), \(item.status))
            """, for: item.tenantID, logger: database.logger)
        for try await c in rows.decode(
            (
                String, String, String?, Date?, String, String, String?, Bool, String, Int32, Bool, Date?, String?,
                String?, String?, [String]?, [String]?
            ).self)
        {
            let row = DueCommitment(
                id: item.id, repository: c.0, sha: c.1, authorEmail: c.2, committedAt: c.3, commitment: c.4,
                dueDate: c.5, managerEmail: c.6)
            var settings = InterventionSettings()
            settings.enabled = c.7
            settings.tone = c.8
            settings.escalationDelaySeconds = Int(c.9)
            settings.slackConfigured = c.10
            settings.updatedAt = c.11
            var context = Context(row: row, settings: settings)
            context.ownerHandle = c.12
            context.managerEmail = item.status == "watching" ? c.13 : row.managerEmail
            context.managerHandle = c.14
            context.closedBy =
                zip(c.15 ?? [], c.16 ?? []).first { _, subject in
                    CommitmentClosure.closes(subject, promise: row.commitment)
                }?.0
            return context
        }
        return nil
    }
}
