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
    /// commitment, a later commit that closes it; nil when the row has moved on since it was claimed.
    func context(of item: Claimed, in transaction: TenantTransaction) async throws -> Context? {
        let tenant = transaction.tenantID.rawValue
        let rows = try await transaction.query(
            """
            SELECT intervention_id, repository, sha, author_email, committed_at, commitment, due_date::text,
                   manager_email
            FROM interventions
            WHERE tenant_id = \(tenant) AND intervention_id = \(item.id) AND status = \(item.status)
            """)
        var found: DueCommitment?
        for try await row in rows.decode((UUID, String, String, String?, Date?, String, String, String?).self) {
            found = DueCommitment(
                id: row.0, repository: row.1, sha: row.2, authorEmail: row.3, committedAt: row.4, commitment: row.5,
                dueDate: row.6, managerEmail: row.7)
        }
        guard let row = found else { return nil }
        var context = Context(row: row, settings: try await store.settings(in: transaction))
        if let email = row.authorEmail {
            let owner = try await identity(of: email, in: transaction)
            context.ownerHandle = owner?.handle
            context.managerEmail = item.status == "watching" ? owner?.manager : row.managerEmail
        }
        if let manager = context.managerEmail {
            context.managerHandle = try await identity(of: manager, in: transaction)?.handle
        }
        if item.status == "watching", let email = row.authorEmail {
            context.closedBy = try await closingCommit(of: row, author: email, in: transaction)
        }
        return context
    }

    /// A person's chat handle and manager, by any of their emails.
    func identity(of email: String, in transaction: TenantTransaction) async throws
        -> (handle: String?, manager: String?)?
    {
        let rows = try await transaction.query(
            """
            SELECT chat_handle, manager_email FROM identities
            WHERE tenant_id = \(transaction.tenantID.rawValue)
              AND \(email.lowercased()) = ANY (array_append(git_emails, email))
            ORDER BY email LIMIT 1
            """)
        for try await row in rows.decode((String?, String?).self) { return (row.0, row.1) }
        return nil
    }

    /// The sha of the first later commit of the author in the repository whose message names the promise.
    func closingCommit(of row: DueCommitment, author: String, in transaction: TenantTransaction) async throws
        -> String?
    {
        let since = row.committedAt ?? .distantPast
        let rows = try await transaction.query(
            """
            SELECT sha, subject FROM analyses
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND pipeline = 'commitments'
              AND lower(repository) = \(row.repository.lowercased()) AND lower(author_email) = \(author)
              AND committed_at > \(since) AND sha <> \(row.sha) AND subject IS NOT NULL
            ORDER BY committed_at LIMIT 500
            """)
        for try await (sha, subject) in rows.decode((String, String).self)
        where CommitmentClosure.closes(subject, promise: row.commitment) {
            return sha
        }
        return nil
    }
}
