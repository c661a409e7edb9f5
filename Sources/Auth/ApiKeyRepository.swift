import Foundation
import Persistence
import PostgresNIO
import Tenancy

/// A stored API key: everything but the token, which is never stored.
public struct ApiKeyRecord: Sendable, Equatable {
    public let id: UUID
    public let tenantID: TenantID
    public var name: String
    public var scopes: Set<Scope>
    public let createdBy: String
    /// The person at the root of the key's chain of makers: the key acts with its scopes only as far
    /// as this user's role allows now, and ends with their removal. Nil only on keys revoked for want
    /// of one.
    public let ownerID: UUID?
    public let createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: UUID, tenantID: TenantID, name: String, scopes: Set<Scope>, createdBy: String, ownerID: UUID?,
        createdAt: Date, expiresAt: Date, revokedAt: Date? = nil, lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.scopes = scopes
        self.createdBy = createdBy
        self.ownerID = ownerID
        self.createdAt = createdAt
        // Whole seconds, as the token's `exp` says: a key and its token never disagree on the expiry.
        self.expiresAt = Date(timeIntervalSince1970: expiresAt.timeIntervalSince1970.rounded(.down))
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    /// Whether the key still authenticates at `now` (revocations may be scheduled after a rotation).
    public func isUsable(at now: Date) -> Bool {
        expiresAt > now && (revokedAt.map { $0 > now } ?? true)
    }
}

/// Reads and writes `api_keys` inside a tenant transaction.
public struct ApiKeyRepository: Sendable {
    /// The Postgres channel on which credential changes are announced to every replica.
    public static let invalidationChannel = "controlplane_auth"

    public init() {}

    private typealias Row = (UUID, UUID, String, [String], String, UUID?, Date, Date, Date?, Date?)
    private static let columns =
        "key_id, tenant_id, name, scopes, created_by, owner_user_id, created_at, expires_at, revoked_at, last_used_at"
    private static let keyset = KeysetQuery(
        table: "api_keys", columns: columns, timeColumn: "created_at", idColumn: "key_id",
        condition: visible)
    /// Which keys the API shows: not revoked yet, or superseded by a rotation (kept, with `revoked_at`, as
    /// the history of the key that replaced them). A key revoked by DELETE is gone.
    private static let visible = "(revoked_at IS NULL OR revoked_at > now() OR rotated_to IS NOT NULL)"
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func record(_ row: Row) -> ApiKeyRecord {
        ApiKeyRecord(
            id: row.0, tenantID: TenantID(row.1), name: row.2, scopes: Set(row.3.compactMap(Scope.init(rawValue:))),
            createdBy: row.4, ownerID: row.5, createdAt: row.6, expiresAt: row.7, revokedAt: row.8, lastUsedAt: row.9)
    }

    public func insert(_ key: ApiKeyRecord, in transaction: TenantTransaction) async throws {
        guard key.tenantID == transaction.tenantID else { throw TenantMismatch() }
        let scopes = key.scopes.sorted().map(\.rawValue)
        try await transaction.query(
            """
            INSERT INTO api_keys (tenant_id, key_id, name, scopes, created_by, owner_user_id, created_at, expires_at)
            VALUES (\(key.tenantID.rawValue), \(key.id), \(key.name), \(scopes), \(key.createdBy), \(key.ownerID),
                    \(key.createdAt), \(key.expiresAt))
            """)
    }

    /// The key, unless it does not exist or was revoked (DELETE); a key superseded by a rotation stays
    /// visible with its `revokedAt`.
    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> ApiKeyRecord? {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM api_keys
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND key_id = \(id) AND \(unescaped: Self.visible)
            """)
        for try await row in rows.decode(Row.self) { return Self.record(row) }
        return nil
    }

    /// The tenant's visible keys (see `find`), newest first.
    public func list(limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction) async throws
        -> Page<ApiKeyRecord>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        let rows = try await transaction.query(
            try Self.keyset.page(filters: [("tenant_id", transaction.tenantID.rawValue)], below: bound, limit: limit))
        var keys: [ApiKeyRecord] = []
        for try await row in rows.decode(Row.self) { keys.append(Self.record(row)) }
        return Page(fetched: keys, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    /// Revokes the key now (DELETE): it stops authenticating on every replica when the transaction
    /// commits, and is gone from the API. Nil when the tenant has no such visible key.
    public func revoke(_ id: UUID, at time: Date, in transaction: TenantTransaction) async throws -> ApiKeyRecord? {
        try await endUse(
            id,
            """
            UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, \(time)), \(time)), rotated_to = NULL
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND key_id = \(id) AND \(unescaped: Self.visible)
            RETURNING \(unescaped: Self.columns)
            """, in: transaction)
    }

    /// Marks the key as replaced by `replacement`, valid until `time` (a rotation's grace period); it
    /// stays visible with that `revokedAt`. Nil when the tenant has no such visible key.
    public func supersede(_ id: UUID, by replacement: UUID, at time: Date, in transaction: TenantTransaction)
        async throws -> ApiKeyRecord?
    {
        try await endUse(
            id,
            """
            UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, \(time)), \(time)), rotated_to = \(replacement)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND key_id = \(id) AND \(unescaped: Self.visible)
            RETURNING \(unescaped: Self.columns)
            """, in: transaction)
    }

    /// Runs an UPDATE ... RETURNING of one key and announces the change to every replica.
    private func endUse(_ id: UUID, _ update: PostgresQuery, in transaction: TenantTransaction) async throws
        -> ApiKeyRecord?
    {
        var changed: ApiKeyRecord?
        for try await row in try await transaction.query(update).decode(Row.self) { changed = Self.record(row) }
        if changed != nil { try await Self.announce("key:\(id.uuidString.lowercased())", on: transaction.connection) }
        return changed
    }

    /// Revokes every key `owner` owns that still authenticates, through any chain of keys (a member
    /// removed with their keys), or only those holding a scope outside `allowed` (a member's role
    /// lowered); answers how many. Each stops on every replica when the transaction commits.
    public func revokeAll(
        ownedBy owner: UUID, exceeding allowed: Set<Scope>? = nil, at time: Date, in transaction: TenantTransaction
    ) async throws -> Int {
        let everything = allowed == nil
        let kept = (allowed ?? []).map(\.rawValue).sorted()
        let rows = try await transaction.query(
            """
            UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, \(time)), \(time)), rotated_to = NULL
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND owner_user_id = \(owner)
              AND (revoked_at IS NULL OR revoked_at > \(time))
              AND (\(everything) OR NOT scopes <@ \(kept)::text[])
            RETURNING key_id
            """)
        return try await Self.announceKeys(rows, on: transaction.connection)
    }

    /// Hands every key `owner` owns that still authenticates to `heir`, through any chain of keys (a
    /// member removed, their keys kept); the keys made by the owner directly name the heir as their
    /// maker. From then on the heir's role bounds them. Answers how many.
    public func transferAll(
        ownedBy owner: UUID, to heir: UUID, at time: Date, in transaction: TenantTransaction
    ) async throws -> Int {
        let rows = try await transaction.query(
            """
            UPDATE api_keys
            SET owner_user_id = \(heir),
                created_by = CASE WHEN created_by = \("user:" + owner.uuidString.lowercased())
                                  THEN \("user:" + heir.uuidString.lowercased()) ELSE created_by END
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND owner_user_id = \(owner)
              AND (revoked_at IS NULL OR revoked_at > \(time))
            RETURNING key_id
            """)
        return try await Self.announceKeys(rows, on: transaction.connection)
    }

    /// Records the last use of many keys of many tenants in one statement (`api_keys_record_use`, which
    /// sets each tenant in turn, so row-level security applies to every update).
    public func recordUses(_ uses: [(tenantID: TenantID, keyID: UUID, at: Date)], in database: Database) async throws {
        guard !uses.isEmpty else { return }
        try await database.query(
            """
            SELECT api_keys_record_use(\(uses.map(\.tenantID.rawValue))::uuid[], \(uses.map(\.keyID))::uuid[],
                                       \(uses.map(\.at))::timestamptz[])
            """)
    }

    /// Announces every key id `rows` returns (each stops or changes on every replica when the transaction
    /// commits); answers how many.
    private static func announceKeys(_ rows: PostgresRowSequence, on connection: PostgresConnection) async throws
        -> Int
    {
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        for id in ids { try await announce("key:\(id.uuidString.lowercased())", on: connection) }
        return ids.count
    }

    /// Sends `payload` on the invalidation channel when the surrounding transaction commits.
    public static func announce(_ payload: String, on connection: PostgresConnection) async throws {
        for try await _ in try await connection.statement(
            "SELECT pg_notify(\(invalidationChannel), \(payload))", logger: connection.logger)
        {}
    }
}
