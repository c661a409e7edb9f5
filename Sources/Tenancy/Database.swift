import Logging
import PostgresNIO

/// The application's Postgres access: every statement runs inside a transaction whose tenant (or
/// operator flag) is set with `set_config(..., true)`, so row-level security decides what it sees.
public struct Database: Sendable {
    /// The connection pool; it is a `Service` and must be run by the application's service group.
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` in one transaction limited to `scope`; rolls back when `body` throws and rethrows
    /// the original error untouched, so domain errors reach the caller as they were thrown.
    public func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                try await Self.apply(scope, on: connection, logger: logger)
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private static func apply(_ scope: TransactionScope, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        switch scope {
        case .tenant(let tenantID):
            try await connection.query(
                "SELECT set_config('app.tenant_id', \(tenantID.description), true)", logger: logger)
        case .operator(let tenantID):
            let tenant = tenantID?.description ?? ""
            try await connection.query(
                "SELECT set_config('app.operator', 'on', true), set_config('app.tenant_id', \(tenant), true)",
                logger: logger)
        case .platform:
            break
        }
    }

    /// Answers `SELECT 1`; used by readiness checks.
    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }
}
