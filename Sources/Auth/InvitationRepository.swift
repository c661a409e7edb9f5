import Foundation
import Persistence
import PostgresNIO
import Tenancy

/// An invitation to join a tenant with a role.
public struct InvitationRecord: Sendable, Equatable {
    /// Where an invitation stands.
    public enum Status: String, Sendable {
        case pending, accepted, expired, revoked
    }

    public let id: UUID
    public let email: String
    public let role: Role
    public let invitedBy: String
    public let createdAt: Date
    public let expiresAt: Date
    public let acceptedAt: Date?
    public let revokedAt: Date?

    public func status(at now: Date) -> Status {
        if acceptedAt != nil { return .accepted }
        if revokedAt != nil { return .revoked }
        return expiresAt <= now ? .expired : .pending
    }
}

/// Reads and writes `invitations`, in tenant transactions.
public struct InvitationRepository: Sendable {
    public init() {}

    private static let columns =
        "invitation_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at, secret_hash"
    private typealias Row = (UUID, String, String, String, Date, Date, Date?, Date?, ByteBuffer)

    private static func record(_ row: Row) -> InvitationRecord {
        InvitationRecord(
            id: row.0, email: row.1, role: Role(rawValue: row.2) ?? .member, invitedBy: row.3, createdAt: row.4,
            expiresAt: row.5, acceptedAt: row.6, revokedAt: row.7)
    }

    /// Stores a new invitation for `token`; an open invitation to the same email is revoked first (the
    /// newest one is the one that counts).
    public func create(
        email: String, role: Role, invitedBy: String, token: InvitationToken, createdAt: Date, expiresAt: Date,
        in transaction: TenantTransaction
    ) async throws -> InvitationRecord {
        guard token.tenantID == transaction.tenantID else { throw TenantMismatch() }
        let normalized = UserRecord.normalize(email: email)
        try await transaction.query(
            """
            UPDATE invitations SET revoked_at = \(createdAt)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND email_normalized = \(normalized)
              AND accepted_at IS NULL AND revoked_at IS NULL
            """)
        try await transaction.query(
            """
            INSERT INTO invitations (tenant_id, invitation_id, email, email_normalized, role, secret_hash, invited_by,
                                     created_at, expires_at)
            VALUES (\(transaction.tenantID.rawValue), \(token.invitationID), \(email), \(normalized), \(role.rawValue),
                    \(token.secretHash), \(invitedBy), \(createdAt), \(expiresAt))
            """)
        return InvitationRecord(
            id: token.invitationID, email: email, role: role, invitedBy: invitedBy, createdAt: createdAt,
            expiresAt: expiresAt, acceptedAt: nil, revokedAt: nil)
    }

    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> InvitationRecord? {
        try await stored(id, locking: false, in: transaction)?.invitation
    }

    /// The invitation with the hash of its secret; with `locking`, its row is held until the transaction ends.
    private func stored(_ id: UUID, locking: Bool, in transaction: TenantTransaction) async throws
        -> (invitation: InvitationRecord, secretHash: Data)?
    {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM invitations
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND invitation_id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")
            """)
        var found: (InvitationRecord, Data)?
        for try await row in rows.decode(Row.self) { found = (Self.record(row), Data(buffer: row.8)) }
        return found
    }

    /// The invitation `token` names, locked, if its secret matches and it is still pending at `now`.
    public func claim(_ token: InvitationToken, at now: Date, in transaction: TenantTransaction) async throws
        -> InvitationRecord?
    {
        guard token.tenantID == transaction.tenantID,
            let (invitation, hash) = try await stored(token.invitationID, locking: true, in: transaction),
            token.matches(storedHash: hash), invitation.status(at: now) == .pending
        else { return nil }
        return invitation
    }

    private static let keyset = KeysetQuery(
        table: "invitations", columns: columns, timeColumn: "created_at", idColumn: "invitation_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
    /// An invitation's status, as SQL (the database's clock).
    private static let statusSQL = """
        (CASE WHEN accepted_at IS NOT NULL THEN 'accepted' WHEN revoked_at IS NOT NULL THEN 'revoked' \
        WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END)
        """

    /// The tenant's invitations, newest first, one page after `cursor`; only those in `status` if given.
    public func list(
        status: InvitationRecord.Status?, limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction
    ) async throws -> Page<InvitationRecord> {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        var filters: [(column: String, value: any PostgresEncodable)] = [("tenant_id", transaction.tenantID.rawValue)]
        if let status { filters.append((Self.statusSQL, status.rawValue)) }
        let rows = try await transaction.query(try Self.keyset.page(filters: filters, below: bound, limit: limit))
        var invitations: [InvitationRecord] = []
        for try await row in rows.decode(Row.self) { invitations.append(Self.record(row)) }
        return Page(fetched: invitations, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    /// Revokes a pending invitation: nil when there is no such invitation, the record as it is when it
    /// is no longer pending (nothing changed), the revoked one otherwise.
    public func revoke(_ id: UUID, at now: Date, in transaction: TenantTransaction) async throws
        -> (invitation: InvitationRecord, revoked: Bool)?
    {
        guard let (invitation, _) = try await stored(id, locking: true, in: transaction) else { return nil }
        guard invitation.status(at: now) == .pending else { return (invitation, false) }
        try await transaction.query(
            """
            UPDATE invitations SET revoked_at = \(now)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND invitation_id = \(id)
            """)
        return (
            InvitationRecord(
                id: invitation.id, email: invitation.email, role: invitation.role, invitedBy: invitation.invitedBy,
                createdAt: invitation.createdAt, expiresAt: invitation.expiresAt, acceptedAt: nil, revokedAt: now),
            true
        )
    }

    /// Marks the invitation used by `userID`.
    public func markAccepted(_ id: UUID, by userID: UUID, at now: Date, in transaction: TenantTransaction)
        async throws
    {
        try await transaction.query(
            """
            UPDATE invitations SET accepted_at = \(now), accepted_user_id = \(userID)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND invitation_id = \(id)
            """)
    }
}
