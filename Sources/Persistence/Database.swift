import Logging
import PostgresNIO

/// The application's Postgres access: every statement runs inside a transaction whose scope (tenant,
/// operator, maintenance or none) is set with `set_config(..., true)`, so row-level security decides
/// what it sees.
///
/// A code path holds at most one pooled connection at a time: a statement or transaction started while
/// the same task already holds one of this pool's connections throws `NestedPoolLease` instead of
/// waiting for a second (N callers each holding one and waiting for another would empty the pool for
/// good). Connection-level failures (Postgres restarted or unreachable) surface as `DatabaseUnavailable`.
public struct Database: Sendable {
    private enum Source: Sendable {
        /// A pool the caller runs (one-shot commands, tests).
        case fixed(PostgresClient)
        /// The application's own pool (see `PostgresPool`).
        case pooled(PostgresPool)
    }

    private let source: Source
    public let logger: Logger
    /// What the pool is used for right now (every statement and transaction below is counted).
    public let usage: PoolUsage

    /// How long one statement may take before its caller gets `StatementTimedOut` (see `StatementDeadline`).
    public let statementTimeout: Duration

    /// How many connections one tenant's transactions and statements (`query(_:for:)`) use at once; the
    /// rest wait in the tenant's own line (at most `statementTimeout`), so one tenant cannot hold the pool.
    public let tenantShares: ConnectionShares<TenantID>

    /// A database over `client`, which the caller runs; a tenant may use `connectionsPerTenant` of its
    /// connections at once (all of them by default).
    public init(
        client: PostgresClient, logger: Logger, poolSize: Int = 20, connectionsPerTenant: Int? = nil,
        statementTimeout: Duration = .seconds(30)
    ) {
        self.source = .fixed(client)
        self.logger = logger
        self.usage = PoolUsage(capacity: poolSize)
        self.statementTimeout = statementTimeout
        self.tenantShares = ConnectionShares(perHolder: connectionsPerTenant ?? poolSize, patience: statementTimeout)
    }

    /// A database over the application's pool (a `Service` the application runs).
    public init(
        pool: PostgresPool, logger: Logger, connectionsPerTenant: Int? = nil, statementTimeout: Duration = .seconds(30)
    ) {
        self.source = .pooled(pool)
        self.logger = logger
        self.usage = PoolUsage(capacity: pool.settings.size)
        self.statementTimeout = statementTimeout
        self.tenantShares = ConnectionShares(
            perHolder: connectionsPerTenant ?? pool.settings.size, patience: statementTimeout)
    }

    /// The connections this task holds, by pool: a second lease from the same pool is refused.
    @TaskLocal static var held: Set<ObjectIdentifier> = []

    /// Runs `body` on a connection of its own, mapping connection-level failures to `DatabaseUnavailable`.
    /// With a `tenant`, one of its share of connections is held throughout (waited for in its own line).
    private func leasing<Result>(
        for tenant: TenantID? = nil, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let identity: ObjectIdentifier
        switch source {
        case .fixed(let client): identity = ObjectIdentifier(client)
        case .pooled(let pool): identity = ObjectIdentifier(pool)
        }
        guard !Self.held.contains(identity) else { throw NestedPoolLease() }
        guard let tenant else { return try await leased(identity, body) }
        return try await tenantShares.holding(tenant) { try await leased(identity, body) }
    }

    private func leased<Result>(
        _ identity: ObjectIdentifier, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await usage.counting {
                try await StatementDeadline.$limit.withValue(statementTimeout) {
                    try await Self.$held.withValue(Self.held.union([identity])) {
                        switch source {
                        case .fixed(let client): try await client.withConnection(body)
                        case .pooled(let pool): try await pool.withConnection(waitingAtMost: statementTimeout, body)
                        }
                    }
                }
            }
        } catch {
            guard DatabaseUnavailable.isConnectionFailure(error) else { throw error }
            if !(error is DatabaseUnavailable) {
                logger.warning("lost the database", metadata: ["error": .string(String(reflecting: error))])
            }
            throw DatabaseUnavailable()
        }
    }

    /// One statement on a pooled connection, outside any transaction scope: for functions that set
    /// their own scope. Read its rows to the end at once, so the connection goes back to the pool. A
    /// statement done for one `tenant` (a function given its id) counts against that tenant's share.
    @discardableResult
    public func query(
        _ query: PostgresQuery, for tenant: TenantID? = nil, logger: Logger? = nil
    ) async throws -> PostgresRows {
        let logger = logger ?? self.logger
        return try await leasing(for: tenant) { connection in
            PostgresRows(try await connection.statement(query, logger: logger).collect())
        }
    }

    /// One prepared statement on a pooled connection, outside any transaction scope (for functions that
    /// set their own scope), its rows decoded and read to the end: prepared once per connection, then
    /// sent by name, so Postgres neither parses nor plans it again (the per-request statements: under
    /// 10,000 tenants' reads, parsing and planning unnamed statements took 18 % of Postgres's samples). A
    /// statement done for one `tenant` counts against that tenant's share.
    public func execute<Statement: PostgresPreparedStatement>(
        _ statement: Statement, for tenant: TenantID? = nil, logger: Logger? = nil
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        let logger = logger ?? self.logger
        return try await leasing(for: tenant) { connection in
            try await StatementDeadline.run(closing: connection) {
                var rows: [Statement.Row] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        }
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
        let tenant: TenantID? =
            switch scope {
            case .tenant(let tenantID): tenantID
            default: nil
            }
        return try await leasing(for: tenant) { connection in
            try await connection.statement("BEGIN", logger: logger)
            do {
                let settings = scope.settings
                try await connection.statement(
                    """
                    SELECT set_config('app.tenant_id', \(settings.tenantID), true),
                           set_config('app.operator', \(settings.operator), true),
                           set_config('app.maintenance', \(settings.maintenance), true)
                    """, logger: logger)
                let result = try await body(connection)
                // An error that arrived in a row stream nobody read leaves the transaction aborted, and
                // Postgres answers COMMIT with ROLLBACK: that must not pass for success.
                let outcome = try await StatementDeadline.run(closing: connection) {
                    try await connection.query("COMMIT").get().metadata.command
                }
                guard outcome == "COMMIT" else { throw TransactionRolledBack() }
                return result
            } catch {
                // A connection that failed (Postgres gone, restarting) is closed, not asked to roll back:
                // a statement sent to a connection that is closing may never be answered.
                if DatabaseUnavailable.isConnectionFailure(error) {
                    try? await connection.close()
                    throw error
                }
                do {
                    try await connection.statement("ROLLBACK", logger: logger)
                } catch {
                    logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
                    try? await connection.close()
                }
                throw error
            }
        }
    }

    /// Whether `error` is Postgres refusing a statement (it raised an error: a check failed, a function
    /// raised), as opposed to the connection or the deadline failing.
    @Sendable public static func refusedByServer(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo != nil
    }

    /// Answers `SELECT 1`; used by readiness checks.
    public func ping() async throws {
        try await query("SELECT 1")
    }
}

/// A code path asked for a second pooled connection while holding one: a bug, refused rather than
/// risking a pool where every holder waits for another connection.
public struct NestedPoolLease: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "a second pooled connection was asked for while one is held" }
}

/// Postgres rolled a transaction back at COMMIT, because a statement in it had failed.
public struct TransactionRolledBack: Error, Sendable {
    public init() {}
}
