import Foundation
import Persistence
import PostgresNIO

/// A person of the tenant's directory: the email they are known by, the further addresses they commit
/// with, their chat handle, manager and time zone. Emails are kept lowercased.
public struct Identity: Sendable, Equatable {
    public var email: String
    public var gitEmails: [String]
    public var chatHandle: String?
    public var managerEmail: String?
    public var timezone: String?
    public var updatedAt: Date?

    public init(
        email: String, gitEmails: [String] = [], chatHandle: String? = nil, managerEmail: String? = nil,
        timezone: String? = nil, updatedAt: Date? = nil
    ) {
        self.email = email
        self.gitEmails = gitEmails
        self.chatHandle = chatHandle
        self.managerEmail = managerEmail
        self.timezone = timezone
        self.updatedAt = updatedAt
    }
}

/// What a bulk write changed.
public struct IdentityWrite: Sendable, Equatable {
    public let created: Int
    public let updated: Int
    public let unchanged: Int
    public let deleted: Int
    /// The identities the tenant has afterwards.
    public let total: Int
}

/// A git email that two identities would claim: the write is refused whole.
public struct IdentityConflict: Error, Sendable, Equatable {
    public let address: String
    public let first: String
    public let second: String
}

/// The tenant's identities, by email, in tenant transactions.
public struct IdentityStore: Sendable {
    public init() {}

    /// Writes every identity whole in one statement (fields left out are cleared), optionally deletes the
    /// ones not named, then refuses the lot (by throwing, so the transaction rolls back) when a git email
    /// would belong to two people. The caller has lowercased and de-duplicated the emails.
    public func put(_ identities: [Identity], deleteMissing: Bool, in transaction: TenantTransaction) async throws
        -> IdentityWrite
    {
        let tenant = transaction.tenantID.rawValue
        let emails = identities.map(\.email)
        // Each person's git emails travel as one line-separated text (an email holds no whitespace), as
        // Postgres arrays of arrays must be rectangular.
        let gitEmails = identities.map { $0.gitEmails.joined(separator: "\n") }
        // Arrays of optionals do not bind; an absent field travels as '' (which no field may hold).
        let handles = identities.map { $0.chatHandle ?? "" }
        let managers = identities.map { $0.managerEmail ?? "" }
        let zones = identities.map { $0.timezone ?? "" }
        var created = 0
        var updated = 0
        let rows = try await transaction.query(
            """
            WITH written AS (
                INSERT INTO identities (tenant_id, email, git_emails, chat_handle, manager_email, timezone)
                SELECT \(tenant), i.email, string_to_array(i.git_emails, E'\\n'), NULLIF(i.chat_handle, ''),
                       NULLIF(i.manager_email, ''), NULLIF(i.timezone, '')
                FROM unnest(\(emails)::text[], \(gitEmails)::text[], \(handles)::text[], \(managers)::text[],
                            \(zones)::text[]) AS i (email, git_emails, chat_handle, manager_email, timezone)
                ON CONFLICT (tenant_id, email) DO UPDATE
                SET git_emails = EXCLUDED.git_emails, chat_handle = EXCLUDED.chat_handle,
                    manager_email = EXCLUDED.manager_email, timezone = EXCLUDED.timezone, updated_at = now()
                WHERE (identities.git_emails, identities.chat_handle, identities.manager_email, identities.timezone)
                      IS DISTINCT FROM
                      (EXCLUDED.git_emails, EXCLUDED.chat_handle, EXCLUDED.manager_email, EXCLUDED.timezone)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
            """)
        for try await row in rows.decode((Int64, Int64).self) { (created, updated) = (Int(row.0), Int(row.1)) }
        var deleted = 0
        if deleteMissing {
            let gone = try await transaction.query(
                """
                WITH gone AS (
                    DELETE FROM identities WHERE tenant_id = \(tenant) AND NOT (email = ANY(\(emails)::text[]))
                    RETURNING 1
                )
                SELECT count(*) FROM gone
                """)
            for try await count in gone.decode(Int64.self) { deleted = Int(count) }
        }
        let clashes = try await transaction.query(
            """
            SELECT a.address, min(a.email), max(a.email)
            FROM (SELECT lower(x) AS address, i.email FROM identities i
                  CROSS JOIN LATERAL unnest(array_append(i.git_emails, i.email)) AS x
                  WHERE i.tenant_id = \(tenant)) AS a
            GROUP BY a.address HAVING count(DISTINCT a.email) > 1
            ORDER BY a.address LIMIT 1
            """)
        var clash: IdentityConflict?
        for try await row in clashes.decode((String, String, String).self) {
            clash = IdentityConflict(address: row.0, first: row.1, second: row.2)
        }
        if let clash { throw clash }
        var total = 0
        for try await count in try await transaction.query(
            "SELECT count(*) FROM identities WHERE tenant_id = \(tenant)"
        ).decode(Int64.self) { total = Int(count) }
        return IdentityWrite(
            created: created, updated: updated, unchanged: identities.count - created - updated, deleted: deleted,
            total: total)
    }

    /// The tenant's identities by email, from after `cursor`'s email; `email` narrows to the person with
    /// that email or git email.
    public func list(email: String?, limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction)
        async throws -> Page<Identity>
    {
        let after = cursor?.id ?? ""
        let wanted = email?.lowercased()
        let rows = try await transaction.query(
            """
            SELECT email, git_emails, chat_handle, manager_email, timezone, updated_at FROM identities
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND email > \(after)
              AND (\(wanted)::text IS NULL OR email = \(wanted) OR \(wanted) = ANY(git_emails))
            ORDER BY email LIMIT \(limit + 1)::integer
            """)
        var identities: [Identity] = []
        for try await row in rows.decode((String, [String], String?, String?, String?, Date).self) {
            identities.append(
                Identity(
                    email: row.0, gitEmails: row.1, chatHandle: row.2, managerEmail: row.3, timezone: row.4,
                    updatedAt: row.5))
        }
        return Page(fetched: identities, limit: limit) {
            PageCursor(time: Date(timeIntervalSince1970: 0), id: $0.email)
        }
    }
}
