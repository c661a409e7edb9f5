import Foundation
import PostgresNIO

/// Reads and writes the `tenants` table. Every call runs on a connection inside a `Database`
/// transaction whose scope allows the tenant (its own tenant, or an operator scope).
public struct TenantRepository: Sendable {
    public init() {}

    private typealias Row = (UUID, String, String, String, String, String, Date)

    private static func tenant(_ row: Row) -> Tenant {
        Tenant(
            id: TenantID(row.0), slug: row.1, name: row.2, status: Tenant.Status(rawValue: row.3) ?? .suspended,
            plan: Tenant.Plan(rawValue: row.4) ?? .free, timezone: row.5, createdAt: row.6)
    }

    /// Inserts a new tenant; a taken slug surfaces as a `UniqueViolation` on `tenants_slug_key`.
    public func insert(_ tenant: Tenant, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO tenants (tenant_id, slug, name, status, plan, timezone, created_at)
            VALUES (\(tenant.id.rawValue), \(tenant.slug), \(tenant.name), \(tenant.status.rawValue),
                    \(tenant.plan.rawValue), \(tenant.timezone), \(tenant.createdAt))
            """, logger: connection.logger)
    }

    /// The tenant, or nil when it does not exist or the scope cannot see it.
    public func find(_ id: TenantID, on connection: PostgresConnection) async throws -> Tenant? {
        let rows = try await connection.query(
            """
            SELECT tenant_id, slug, name, status, plan, timezone, created_at
            FROM tenants WHERE tenant_id = \(id.rawValue)
            """, logger: connection.logger)
        for try await row in rows.decode(Row.self) { return Self.tenant(row) }
        return nil
    }

    /// Changes name and timezone (tenant side) or status and plan (operator side); nil fields stay.
    public func update(
        _ id: TenantID, name: String? = nil, timezone: String? = nil, status: Tenant.Status? = nil,
        plan: Tenant.Plan? = nil, on connection: PostgresConnection
    ) async throws -> Tenant? {
        let rows = try await connection.query(
            """
            UPDATE tenants SET name = COALESCE(\(name), name), timezone = COALESCE(\(timezone), timezone),
                status = COALESCE(\(status?.rawValue), status), plan = COALESCE(\(plan?.rawValue), plan),
                updated_at = now()
            WHERE tenant_id = \(id.rawValue)
            RETURNING tenant_id, slug, name, status, plan, timezone, created_at
            """, logger: connection.logger)
        for try await row in rows.decode(Row.self) { return Self.tenant(row) }
        return nil
    }

    /// Every tenant the scope can see, newest first (an operator scope sees all of them).
    public func list(
        status: Tenant.Status?, limit: Int, after cursor: PageCursor?, on connection: PostgresConnection
    ) async throws -> Page<Tenant> {
        let (cursorTime, cursorID) = cursor.uuidBound
        let rows = try await connection.query(
            """
            SELECT tenant_id, slug, name, status, plan, timezone, created_at FROM tenants
            WHERE (created_at, tenant_id) < (\(cursorTime), \(cursorID))
              AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
            ORDER BY created_at DESC, tenant_id DESC LIMIT \(limit + 1)
            """, logger: connection.logger)
        var tenants: [Tenant] = []
        for try await row in rows.decode(Row.self) { tenants.append(Self.tenant(row)) }
        return Page(fetched: tenants, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.description) }
    }
}
