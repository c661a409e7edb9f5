import PostgresNIO

/// Refuses to start on a connection whose role would switch row-level security off: a superuser, a role
/// with `BYPASSRLS`, or the owner of the tables (owners skip policies unless forced, and may drop them).
public enum DatabaseRoleCheck {
    /// Why the role is unsafe for the application.
    public enum Violation: Error, Equatable, CustomStringConvertible {
        case superuser(String)
        case bypassesRowLevelSecurity(String)
        case ownsTables(String, count: Int)

        public var description: String {
            switch self {
            case .superuser(let role):
                "the database role \(role) is a superuser; connect as the application role (CP_DATABASE_URL)"
            case .bypassesRowLevelSecurity(let role):
                "the database role \(role) has BYPASSRLS; tenant isolation would be off"
            case .ownsTables(let role, let count):
                "the database role \(role) owns \(count) tables; use the owner only for `controlplane migrate`"
            }
        }
    }

    /// Throws a `Violation` when the connected role is unsafe.
    public static func verify(_ database: Database) async throws {
        try await database.transaction(.platform) { connection in
            let rows = try await connection.statement(
                """
                SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                       (SELECT count(*) FROM pg_catalog.pg_class c
                        WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p')
                          AND c.relnamespace = 'public'::regnamespace)::int
                FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
                """, logger: connection.logger)
            for try await (role, superuser, bypass, owned) in rows.decode((String, Bool, Bool, Int).self) {
                if superuser { throw Violation.superuser(role) }
                if bypass { throw Violation.bypassesRowLevelSecurity(role) }
                if owned > 0 { throw Violation.ownsTables(role, count: owned) }
            }
        }
    }
}
