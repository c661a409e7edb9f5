import Foundation
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
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM invitations
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND invitation_id = \(id)
            """)
        var found: InvitationRecord?
        for try await row in rows.decode(Row.self) { found = Self.record(row) }
        return found
    }

    /// The invitation `token` names, locked, if its secret matches and it is still pending at `now`.
    public func claim(_ token: InvitationToken, at now: Date, in transaction: TenantTransaction) async throws
        -> InvitationRecord?
    {
        guard token.tenantID == transaction.tenantID else { return nil }
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM invitations
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND invitation_id = \(token.invitationID) FOR UPDATE
            """)
        var found: (InvitationRecord, Data)?
        for try await row in rows.decode(Row.self) { found = (Self.record(row), Data(buffer: row.8)) }
        guard let (invitation, hash) = found, token.matches(storedHash: hash), invitation.status(at: now) == .pending
        else { return nil }
        return invitation
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
