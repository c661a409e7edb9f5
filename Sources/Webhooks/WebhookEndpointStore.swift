import Crypto
import Foundation
import Jobs
import Persistence
import PostgresNIO
import Tenancy

/// A tenant's webhook endpoint as the API shows it: never its secret.
public struct WebhookEndpoint: Sendable, Equatable {
    public let id: UUID
    public var pipelines: [Pipeline]
    public var repositories: [String]
    public var active: Bool
    public let createdAt: Date
    public var updatedAt: Date
    public var secretRotatedAt: Date?
    public var previousSecretExpiresAt: Date?

    /// The path GitHub delivers to.
    public var path: String { "/v1/hooks/github/\(id.uuidString.lowercased())" }
}

/// Reads and writes `webhook_endpoints` in a tenant transaction. Secrets are generated here (32 random
/// bytes as 64 hex digits), sealed with the master key bound to their endpoint, and returned only by
/// `create` and `rotate`.
public struct WebhookEndpointStore: Sendable {
    let box: SecretBox

    public init(box: SecretBox) { self.box = box }

    private typealias Row = (UUID, [String], [String], Bool, Date, Date, Date?, Date?)
    private static let columns =
        "endpoint_id, pipelines, repositories, active, created_at, updated_at, secret_rotated_at, previous_secret_expires_at"
    private static let keyset = KeysetQuery(
        table: "webhook_endpoints", columns: columns, timeColumn: "created_at", idColumn: "endpoint_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func endpoint(_ row: Row) -> WebhookEndpoint {
        WebhookEndpoint(
            id: row.0, pipelines: row.1.compactMap(Pipeline.init(rawValue:)).sorted(), repositories: row.2,
            active: row.3, createdAt: row.4, updatedAt: row.5, secretRotatedAt: row.6, previousSecretExpiresAt: row.7)
    }

    /// The context a secret is sealed under: its endpoint, so a sealed value cannot be moved to another.
    public static func sealContext(_ endpointID: UUID) -> String {
        "webhook-secret:\(endpointID.uuidString.lowercased())"
    }

    /// A fresh secret: 32 random bytes as 64 lowercase hex digits.
    static func generateSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    /// Creates an endpoint and answers it with its secret (the only time the secret leaves the server).
    public func create(
        id: UUID = UUID(), pipelines: [Pipeline], repositories: [String], active: Bool,
        in transaction: TenantTransaction
    ) async throws -> (endpoint: WebhookEndpoint, secret: String) {
        let secret = Self.generateSecret()
        let sealed = Data(try box.seal(Data(secret.utf8), context: Self.sealContext(id)))
        let tenant = transaction.tenantID.rawValue
        var created: WebhookEndpoint?
        let rows = try await transaction.query(
            """
            INSERT INTO webhook_endpoints (tenant_id, endpoint_id, pipelines, repositories, active, secret_sealed)
            VALUES (\(tenant), \(id), \(pipelines.sorted().map(\.rawValue)), \(repositories), \(active), \(sealed))
            RETURNING \(unescaped: Self.columns)
            """)
        for try await row in rows.decode(Row.self) { created = Self.endpoint(row) }
        try await transaction.query("INSERT INTO webhook_routes (endpoint_id, tenant_id) VALUES (\(id), \(tenant))")
        guard let created else { throw EndpointNotCreated() }
        return (created, secret)
    }

    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> WebhookEndpoint? {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM webhook_endpoints
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND endpoint_id = \(id)
            """)
        for try await row in rows.decode(Row.self) { return Self.endpoint(row) }
        return nil
    }

    /// The tenant's endpoints, newest first.
    public func list(limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction) async throws
        -> Page<WebhookEndpoint>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        let rows = try await transaction.query(
            try Self.keyset.page(filters: [("tenant_id", transaction.tenantID.rawValue)], below: bound, limit: limit))
        var endpoints: [WebhookEndpoint] = []
        for try await row in rows.decode(Row.self) { endpoints.append(Self.endpoint(row)) }
        return Page(fetched: endpoints, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    /// Changes what is given (nil leaves a field as it is); nil when there is no such endpoint.
    public func update(
        _ id: UUID, pipelines: [Pipeline]?, repositories: [String]?, active: Bool?, in transaction: TenantTransaction
    ) async throws -> WebhookEndpoint? {
        let rows = try await transaction.query(
            """
            UPDATE webhook_endpoints SET
                pipelines = COALESCE(\(pipelines?.sorted().map(\.rawValue)), pipelines),
                repositories = COALESCE(\(repositories), repositories),
                active = COALESCE(\(active), active),
                updated_at = now()
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND endpoint_id = \(id)
            RETURNING \(unescaped: Self.columns)
            """)
        for try await row in rows.decode(Row.self) { return Self.endpoint(row) }
        return nil
    }

    /// Deletes the endpoint (its route goes with it); false when there was none.
    public func delete(_ id: UUID, in transaction: TenantTransaction) async throws -> Bool {
        let rows = try await transaction.query(
            """
            DELETE FROM webhook_endpoints WHERE tenant_id = \(transaction.tenantID.rawValue) AND endpoint_id = \(id)
            RETURNING endpoint_id
            """)
        for try await _ in rows.decode(UUID.self) { return true }
        return false
    }

    /// Replaces the secret; the current one becomes the previous one, accepted for `grace` more seconds
    /// (0: not at all). Nil when there is no such endpoint.
    public func rotate(_ id: UUID, grace: Int, in transaction: TenantTransaction) async throws
        -> (endpoint: WebhookEndpoint, secret: String)?
    {
        let secret = Self.generateSecret()
        let sealed = Data(try box.seal(Data(secret.utf8), context: Self.sealContext(id)))
        let rows = try await transaction.query(
            """
            UPDATE webhook_endpoints SET
                previous_secret_sealed = CASE WHEN \(grace)::integer > 0 THEN secret_sealed END,
                previous_secret_expires_at = CASE WHEN \(grace)::integer > 0
                    THEN now() + make_interval(secs => \(grace)::integer) END,
                secret_sealed = \(sealed), secret_rotated_at = now(), updated_at = now()
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND endpoint_id = \(id)
            RETURNING \(unescaped: Self.columns)
            """)
        for try await row in rows.decode(Row.self) { return (Self.endpoint(row), secret) }
        return nil
    }
}

/// The endpoint row was not answered by its own INSERT (not expected to happen).
struct EndpointNotCreated: Error {}
