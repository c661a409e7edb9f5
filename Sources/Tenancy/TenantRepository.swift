import Foundation
import Persistence
import PostgresNIO

/// Reads and writes the `tenants` table: a tenant's own row inside its transaction, every row in an
/// operator transaction.
public struct TenantRepository: Sendable {
    public init() {}

    private typealias Row = (UUID, String, String, String, String, String, Date)
    private static let columns = "tenant_id, slug, name, status, plan, timezone, created_at"
    private static let keyset = KeysetQuery(
        table: "tenants", columns: columns, timeColumn: "created_at", idColumn: "tenant_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func tenant(_ row: Row) -> Tenant {
        Tenant(
            id: TenantID(row.0), slug: row.1, name: row.2, status: Tenant.Status(rawValue: row.3) ?? .suspended,
            plan: Tenant.Plan(rawValue: row.4) ?? .free, timezone: row.5, createdAt: row.6)
    }

    private static func first<Rows: AsyncSequence>(_ rows: Rows) async throws -> Tenant?
    where Rows.Element == PostgresRow {
        for try await row in rows.decode(Row.self) { return tenant(row) }
        return nil
    }

    /// Inserts the transaction's tenant; a taken slug surfaces as a `UniqueViolation` on `tenants_slug_key`.
    public func insert(_ tenant: Tenant, in transaction: TenantTransaction) async throws {
        guard tenant.id == transaction.tenantID else { throw TenantMismatch() }
        try await transaction.query(
            """
            INSERT INTO tenants (tenant_id, slug, name, status, plan, timezone, created_at)
            VALUES (\(tenant.id.rawValue), \(tenant.slug), \(tenant.name), \(tenant.status.rawValue),
                    \(tenant.plan.rawValue), \(tenant.timezone), \(tenant.createdAt))
            """)
    }

    /// `tenantID`'s own row in one statement outside any transaction (`tenant_read`, which sets the
    /// tenant itself, so row-level security applies as in the tenant's transaction); nil when it does not
    /// exist.
    public func read(_ tenantID: TenantID, from database: Database) async throws -> Tenant? {
        try await database.execute(TenantRead(tenantID: tenantID), for: tenantID).first.map(Self.tenant)
    }

    /// `tenant_read`, prepared: it runs on every authenticated `GET /v1/tenant`.
    private struct TenantRead: PostgresPreparedStatement {
        static let sql = "SELECT \(TenantRepository.columns) FROM tenant_read($1)"
        typealias Row = TenantRepository.Row
        let tenantID: TenantID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(tenantID.rawValue)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Every tenant's id and plan, read in a maintenance transaction (whose policy allows just this read
    /// of `tenants`), for passes that visit each tenant in turn: retention, master key rotation.
    public func allPlans(from database: Database) async throws -> [(id: TenantID, plan: Tenant.Plan)] {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.statement(
                "SELECT tenant_id, plan FROM tenants ORDER BY tenant_id", logger: database.logger)
            var found: [(id: TenantID, plan: Tenant.Plan)] = []
            for try await (id, plan) in rows.decode((UUID, String).self) {
                found.append((TenantID(id), Tenant.Plan(rawValue: plan) ?? .free))
            }
            return found
        }
    }

    /// The transaction's tenant, or nil when it does not exist.
    public func find(in transaction: TenantTransaction) async throws -> Tenant? {
        try await Self.first(
            try await transaction.query(
                "SELECT \(unescaped: Self.columns) FROM tenants WHERE tenant_id = \(transaction.tenantID.rawValue)"))
    }

    /// Changes the tenant's name and timezone (nil fields stay), the only columns a tenant may change.
    public func update(name: String?, timezone: String?, in transaction: TenantTransaction) async throws -> Tenant? {
        try await Self.first(
            try await transaction.query(
                """
                UPDATE tenants SET name = COALESCE(\(name), name), timezone = COALESCE(\(timezone), timezone),
                    updated_at = now()
                WHERE tenant_id = \(transaction.tenantID.rawValue) RETURNING \(unescaped: Self.columns)
                """))
    }

    /// Changes status and plan (nil fields stay) through the database's operator function, which refuses
    /// to run outside an operator transaction.
    public func operatorUpdate(status: Tenant.Status?, plan: Tenant.Plan?, in transaction: TenantTransaction)
        async throws -> Tenant?
    {
        try await Self.first(
            try await transaction.query(
                """
                SELECT \(unescaped: Self.columns)
                FROM operator_update_tenant(\(transaction.tenantID.rawValue), \(status?.rawValue), \(plan?.rawValue))
                """))
    }

    /// Every tenant an operator transaction can see, newest first.
    public func list(
        status: Tenant.Status?, limit: Int, after cursor: PageCursor?, on connection: PostgresConnection
    ) async throws -> Page<Tenant> {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        let filters: [(column: String, value: any PostgresEncodable)] = status.map { [("status", $0.rawValue)] } ?? []
        let rows = try await connection.statement(
            try Self.keyset.page(filters: filters, below: bound, limit: limit), logger: connection.logger)
        var tenants: [Tenant] = []
        for try await row in rows.decode(Row.self) { tenants.append(Self.tenant(row)) }
        return Page(fetched: tenants, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.description) }
    }
}

/// A record handed to a repository inside another tenant's transaction.
public struct TenantMismatch: Error, Sendable {
    public init() {}
}
