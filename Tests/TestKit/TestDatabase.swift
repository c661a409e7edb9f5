import Foundation
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// The Postgres started by `scripts/test`, as the application role, for module tests that need no HTTP.
public enum TestDatabase {
    public static let logger: Logger = {
        var logger = Logger(label: "module-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `body` with a fresh pool (one "server instance", the application's own `PostgresPool`) on the
    /// application role.
    public static func with<Value: Sendable>(_ body: @Sendable (Database) async throws -> Value) async throws -> Value {
        guard let url = ProcessInfo.processInfo.environment["CP_DATABASE_URL"], !url.isEmpty else {
            throw MissingEnvironment()
        }
        let pool = try PostgresPool(endpoint: try DatabaseURL.endpoint(url), settings: .init(size: 20), logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            return try await body(Database(pool: pool, logger: logger))
        }
    }

    /// Runs `body` with a fresh, running client of the role `variable` names (`CP_MIGRATION_DATABASE_URL`
    /// for the owner), its connections started with `startupParameters` (a `search_path`).
    public static func withClient<Value: Sendable>(
        role variable: String = "CP_DATABASE_URL", maximumConnections: Int = 20,
        startupParameters: [(String, String)] = [], _ body: @Sendable (PostgresClient) async throws -> Value
    ) async throws -> Value {
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else {
            throw MissingEnvironment()
        }
        var configuration = try DatabaseURL.configuration(url)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = startupParameters
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// A new active tenant in `timezone`, made directly in the database; `provision` adds rows of other
    /// modules (a budget, users) in the same transaction.
    public static func tenant(
        in database: Database, timezone: String = "UTC", prefix: String = "t",
        provision: @Sendable (TenantTransaction) async throws -> Void = { _ in }
    ) async throws -> TenantID {
        let id = TenantID.generate()
        let slug = "\(prefix)-\(id.description.prefix(12))"
        try await database.withTenant(id) { transaction in
            try await TenantRepository().insert(
                Tenant(
                    id: id, slug: slug, name: "Test \(slug)", status: .active, plan: .free, timezone: timezone,
                    createdAt: Date()), in: transaction)
            try await provision(transaction)
        }
        return id
    }
}

/// The tests were started without the services `scripts/test` starts.
public struct MissingEnvironment: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "CP_DATABASE_URL is not set (run the tests through scripts/test)" }
}
