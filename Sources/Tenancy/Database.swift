import Logging
import PostgresNIO

/// The application's Postgres access: every statement runs inside a transaction whose scope (tenant,
/// operator, maintenance or none) is set with `set_config(..., true)`, so row-level security decides
/// what it sees.
public struct Database: Sendable {
    /// The connection pool; it is a `Service` and must be run by the application's service group.
    public let client: PostgresClient
    public let logger: Logger
    /// What the pool is used for right now (every statement and transaction below is counted).
    public let usage: PoolUsage

    public init(client: PostgresClient, logger: Logger, poolSize: Int = 20) {
        self.client = client
        self.logger = logger
        self.usage = PoolUsage(capacity: poolSize)
    }

    /// One statement on a pooled connection, outside any transaction scope: for functions that set
    /// their own scope. Read its rows to the end at once, so the connection goes back to the pool.
    public func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> PostgresRowSequence {
        try await usage.counting { try await client.query(query, logger: logger ?? self.logger) }
    }

    /// Runs `body` in one transaction of `tenantID`.
    public func withTenant<Result: Sendable>(
        _ tenantID: TenantID, _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(.tenant(tenantID)) {
            try await body(TenantTransaction(connection: $0, tenantID: tenantID))
        }
    }

    /// Runs `body` in an operator transaction acting on `tenantID`: the tenant's rows are reachable as in
    /// its own transaction, and the `tenants` row may be changed through the operator function.
    public func asOperator<Result: Sendable>(
        actingOn tenantID: TenantID, _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(.operator(actingOn: tenantID)) {
            try await body(TenantTransaction(connection: $0, tenantID: tenantID))
        }
    }

    /// Runs `body` in one transaction limited to `scope`; rolls back when `body` throws and rethrows
    /// the original error untouched, so domain errors reach the caller as they were thrown. A connection
    /// whose rollback fails is closed rather than handed back to the pool in an unknown state.
    public func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await usage.counting {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let settings = scope.settings
                    try await connection.query(
                        """
                        SELECT set_config('app.tenant_id', \(settings.tenantID), true),
                               set_config('app.operator', \(settings.operator), true),
                               set_config('app.maintenance', \(settings.maintenance), true)
                        """, logger: logger)
                    let result = try await body(connection)
                    // An error that arrived in a row stream nobody read leaves the transaction aborted, and
                    // Postgres answers COMMIT with ROLLBACK: that must not pass for success.
                    let outcome = try await connection.query("COMMIT").get().metadata.command
                    guard outcome == "COMMIT" else { throw TransactionRolledBack() }
                    return result
                } catch {
                    do {
                        try await connection.query("ROLLBACK", logger: logger)
                    } catch {
                        logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
                        try? await connection.close()
                    }
                    throw error
                }
            }
        }
    }

    /// Answers `SELECT 1`; used by readiness checks.
    public func ping() async throws {
        try await query("SELECT 1")
    }
}

/// Postgres rolled a transaction back at COMMIT, because a statement in it had failed.
public struct TransactionRolledBack: Error, Sendable {
    public init() {}
}
