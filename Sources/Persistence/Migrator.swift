import Foundation
import Logging
import PostgresNIO

/// Brings a database to a `MigrationPlan` under a Postgres advisory lock, so replicas starting together
/// do not race: pending migrations in version order, each in its own transaction, and each definition
/// whose text is not the one last applied, right after the migration it follows. On a new database that
/// interleaves them (a function is there before a later migration needs it); on a current one only the
/// definitions that changed run, in place (`CREATE OR REPLACE`, triggers dropped and made again in the
/// same transaction).
public struct Migrator: Sendable {
    public enum MigrationError: Error, CustomStringConvertible {
        case checksumMismatch(version: Int, name: String)
        case unknownAppliedVersion(Int)

        public var description: String {
            switch self {
            case .checksumMismatch(let version, let name):
                "migration \(version) (\(name)) changed after it was applied; add a new migration instead"
            case .unknownAppliedVersion(let version):
                "the database has migration \(version) applied, which this build does not know"
            }
        }
    }

    /// An arbitrary constant shared by every replica: the advisory lock's key.
    static let lockKey: Int64 = 0x636f_6e74_726f_6c70

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies what `plan` has that the database has not; returns what it applied (`NNNN_name` for a
    /// migration, `definitions/name` for a definition).
    @discardableResult
    public func migrate(_ plan: MigrationPlan) async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await apply(plan, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(_ plan: MigrationPlan, on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_definitions (
                name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var applied: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query(
            "SELECT version, checksum FROM schema_migrations", logger: logger
        ).decode((Int, String).self) {
            applied[version] = checksum
        }
        var defined: [String: String] = [:]
        for try await (name, checksum) in try await connection.query(
            "SELECT name, checksum FROM schema_definitions", logger: logger
        ).decode((String, String).self) {
            defined[name] = checksum
        }
        let known = Set(plan.migrations.map(\.version))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError.unknownAppliedVersion(unknown)
        }
        for migration in plan.migrations {
            guard let checksum = applied[migration.version], checksum != migration.checksum else { continue }
            guard plan.superseded[migration.version]?.contains(checksum) == true else {
                throw MigrationError.checksumMismatch(version: migration.version, name: migration.name)
            }
            try await connection.query(
                "UPDATE schema_migrations SET checksum = \(migration.checksum) WHERE version = \(migration.version)",
                logger: logger)
            logger.info(
                "migration rewritten since it was applied; its new text is recorded",
                metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }

        var ran: [String] = []
        var definitions = plan.definitions[...]
        func defineDue(through version: Int) async throws {
            while let next = definitions.first, next.after <= version {
                definitions.removeFirst()
                guard defined[next.name] != next.checksum else { continue }
                try await transaction(on: connection) {
                    // As pg_dump does: a function's body is checked when it runs, so one may name another
                    // defined later in the same pass.
                    try await connection.query("SET LOCAL check_function_bodies = off", logger: logger)
                    try await run(next.sql, on: connection)
                    try await connection.query(
                        """
                        INSERT INTO schema_definitions (name, checksum) VALUES (\(next.name), \(next.checksum))
                        ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                        """, logger: logger)
                }
                logger.info("applied definition", metadata: ["name": "\(next.name)", "after": "\(next.after)"])
                ran.append("definitions/\(next.name)")
            }
        }
        try await defineDue(through: 0)
        for migration in plan.migrations {
            if applied[migration.version] == nil {
                try await transaction(on: connection) {
                    try await run(migration.sql, on: connection)
                    try await connection.query(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """, logger: logger)
                }
                logger.info(
                    "applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                ran.append(String(format: "%04d", migration.version) + "_" + migration.name)
            }
            try await defineDue(through: migration.version)
        }
        try await defineDue(through: Int.max)
        return ran
    }

    private func run(_ script: String, on connection: PostgresConnection) async throws {
        for statement in SQLScript.statements(in: script) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    private func transaction(on connection: PostgresConnection, _ body: () async throws -> Void) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await body()
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
