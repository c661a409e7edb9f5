import Foundation
import Persistence
import PostgresNIO
import Tenancy

/// A person of one tenant.
public struct UserRecord: Sendable, Equatable {
    public let id: UUID
    public let tenantID: TenantID
    public let email: String
    public let role: Role
    public let passwordHash: String
    public let createdAt: Date

    public init(id: UUID, tenantID: TenantID, email: String, role: Role, passwordHash: String, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.email = email
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }

    /// Emails compare case-insensitively: the stored key is the trimmed, lowercased address.
    public static func normalize(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}

/// Reads and writes `users` and the platform-wide `login_directory`.
public struct UserRepository: Sendable {
    public init() {}

    /// Inserts the user and its directory entry; a taken email surfaces as a `UniqueViolation` on
    /// `login_directory_pkey`. Runs in the user's tenant transaction.
    public func insert(_ user: UserRecord, in transaction: TenantTransaction) async throws {
        guard user.tenantID == transaction.tenantID else { throw TenantMismatch() }
        let normalized = UserRecord.normalize(email: user.email)
        try await transaction.query(
            """
            INSERT INTO users (tenant_id, user_id, email, email_normalized, password_hash, role, created_at)
            VALUES (\(user.tenantID.rawValue), \(user.id), \(user.email), \(normalized), \(user.passwordHash),
                    \(user.role.rawValue), \(user.createdAt))
            """)
        try await transaction.query(
            """
            INSERT INTO login_directory (email_normalized, tenant_id, user_id)
            VALUES (\(normalized), \(user.tenantID.rawValue), \(user.id))
            """)
    }

    /// The user with this email, looked up before the tenant is known: the directory names the tenant,
    /// then the transaction switches to it to read the user. An unknown email runs the same statements
    /// against a random tenant, so both cases cost the same. Runs in a `.platform` transaction.
    public func findForLogin(email: String, on connection: PostgresConnection) async throws -> UserRecord? {
        let normalized = UserRecord.normalize(email: email)
        var tenantID = TenantID.generate()
        var userID = UUID()
        for try await (tenant, user) in try await connection.statement(
            "SELECT tenant_id, user_id FROM login_directory WHERE email_normalized = \(normalized)",
            logger: connection.logger
        ).decode((UUID, UUID).self) {
            tenantID = TenantID(tenant)
            userID = user
        }
        return try await find(userID, in: try await TenantTransaction.switching(connection, to: tenantID))
    }

    /// The user, or nil; with `locking`, their row is held until the transaction ends (role changes,
    /// removals and the sign-ins that write a session read it this way).
    public func find(_ id: UUID, locking: Bool = false, in transaction: TenantTransaction) async throws
        -> UserRecord?
    {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM users
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND user_id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")
            """)
        var found: UserRecord?
        for try await row in rows.decode(Row.self) { found = Self.record(row, tenantID: transaction.tenantID) }
        return found
    }

    private static let columns = "user_id, email, role, password_hash, created_at"
    private typealias Row = (UUID, String, String, String, Date)

    private static func record(_ row: Row, tenantID: TenantID) -> UserRecord {
        UserRecord(
            id: row.0, tenantID: tenantID, email: row.1, role: Role(rawValue: row.2) ?? .member, passwordHash: row.3,
            createdAt: row.4)
    }

    private static let keyset = KeysetQuery(
        table: "users", columns: columns, timeColumn: "created_at",
        idColumn: "user_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    /// The tenant's members, newest first, one page after `cursor`.
    public func list(limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction) async throws
        -> Page<UserRecord>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        let rows = try await transaction.query(
            try Self.keyset.page(filters: [("tenant_id", transaction.tenantID.rawValue)], below: bound, limit: limit))
        var users: [UserRecord] = []
        for try await row in rows.decode(Row.self) { users.append(Self.record(row, tenantID: transaction.tenantID)) }
        return Page(fetched: users, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    /// Gives the user `role`; every replica hears of it, so tokens already issued lose what it takes away.
    public func setRole(_ id: UUID, to role: Role, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            """
            UPDATE users SET role = \(role.rawValue)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND user_id = \(id)
            """)
        try await ApiKeyRepository.announce("user:\(id.uuidString.lowercased())", on: transaction.connection)
    }

    /// Makes the owner `id` an admin, if it is still the owner once its row is locked; answers whether it was.
    public func demoteOwner(_ id: UUID, in transaction: TenantTransaction) async throws -> Bool {
        let rows = try await transaction.query(
            """
            UPDATE users SET role = 'admin'
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND user_id = \(id) AND role = 'owner'
            RETURNING 1
            """)
        var demoted = false
        for try await _ in rows { demoted = true }
        if demoted {
            try await ApiKeyRepository.announce("user:\(id.uuidString.lowercased())", on: transaction.connection)
        }
        return demoted
    }

    /// Whether an account anywhere on the platform has this email (emails are unique platform-wide).
    public func emailTaken(_ email: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.statement(
            "SELECT 1 FROM login_directory WHERE email_normalized = \(UserRecord.normalize(email: email))",
            logger: connection.logger)
        var taken = false
        for try await _ in rows { taken = true }
        return taken
    }

    /// Deletes the user and their directory entry; their tokens stop working on every replica.
    public func delete(_ id: UUID, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            "DELETE FROM users WHERE tenant_id = \(transaction.tenantID.rawValue) AND user_id = \(id)")
        try await ApiKeyRepository.announce("user:\(id.uuidString.lowercased())", on: transaction.connection)
    }
}
