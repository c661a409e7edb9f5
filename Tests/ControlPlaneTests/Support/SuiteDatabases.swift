import Foundation
import Logging
import Persistence
import PostgresNIO
import Synchronization
import Testing

/// A database of its own for each test suite, cloned from the migrated template `scripts/test` makes
/// (`CP_TEST_TEMPLATE_DATABASE`), so that no relay, scheduler or listener-killing test of one suite ever
/// sees another suite's rows or connections. Names carry a token of this process, so runs against one
/// cluster never meet; `drop_suite_databases` (scripts/lib/services.sh) drops those of finished runs.
/// Without the template (a test run by hand against a plain database) every suite shares the configured
/// database.
enum SuiteDatabases {
    static let template = ProcessInfo.processInfo.environment["CP_TEST_TEMPLATE_DATABASE"].flatMap {
        $0.isEmpty ? nil : $0
    }
    private static let prefix = "cp_suite_"
    /// This process's token.
    private static let token = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private static let made = Mutex<[String: Task<Void, any Error>]>([:])

    /// The database of the running test's suite, or nil (no template, or no test running).
    static var current: String? {
        guard template != nil, let test = Test.current else { return nil }
        let suite = test.id.nameComponents.dropLast().joined(separator: "_")
        let cleaned = String(suite.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(40))
        return "\(prefix)\(token)_\(cleaned.isEmpty ? "free" : cleaned)"
    }

    /// `url` with its database replaced by the running suite's.
    static func rewrite(_ url: String) -> String {
        guard let database = current, var components = URLComponents(string: url) else { return url }
        components.path = "/\(database)"
        return components.string ?? url
    }

    /// Makes the running suite's database (once per process), through the owner's connection `ownerURL`.
    static func ensureCurrent(ownerURL: String) async throws {
        guard let template, let database = current else { return }
        let task = made.withLock { made -> Task<Void, any Error> in
            if let task = made[database] { return task }
            let task = Task {
                try await withOwnerConnection(ownerURL) { connection in
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE DATABASE \(database) TEMPLATE \(template)"),
                        logger: TestEnvironment.logger)
                    // Database privileges are not copied from a template: as `scripts/test` sets them on the
                    // first database (no temporary tables, no connection for anyone but the two roles).
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(database) FROM PUBLIC"),
                        logger: TestEnvironment.logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "GRANT CONNECT ON DATABASE \(database) TO controlplane_app"),
                        logger: TestEnvironment.logger)
                }
            }
            made[database] = task
            return task
        }
        try await task.value
    }

    private static func withOwnerConnection(
        _ url: String, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let endpoint = try DatabaseURL.endpoint(url)
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: .disable)
        let connection = try await PostgresConnection.connect(
            configuration: configuration, id: 0, logger: TestEnvironment.logger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
