import Foundation
import Logging
import Persistence
import PostgresNIO
import TestKit
import Testing

/// The migrator against the real Postgres, each test in a schema of its own (owner role): definitions
/// are applied after the migration they follow and again only when their text changes; a rewritten
/// migration is accepted only with the checksum it was released with.
@Suite(.timeLimit(.minutes(2))) struct MigratorTests {
    /// Runs `body` with a migrator whose connections work in a new, empty schema, dropped afterwards.
    static func inScratchSchema(
        _ body: @Sendable (Migrator, PostgresClient) async throws -> Void
    ) async throws {
        let schema = "migrator_test_\(UUID().uuidString.prefix(8).lowercased())"
        try await TestDatabase.withClient(
            role: "CP_MIGRATION_DATABASE_URL", maximumConnections: 2, startupParameters: [("search_path", schema)]
        ) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
            do {
                try await body(Migrator(client: client, logger: TestDatabase.logger), client)
            } catch {
                _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                throw error
            }
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
        }
    }

    static func answer(_ client: PostgresClient) async throws -> Int {
        for try await value in try await client.query("SELECT answer()").decode(Int.self) { return value }
        return -1
    }

    static let migrations = [
        MigrationPlan.Migration(version: 1, name: "things", sql: "CREATE TABLE things (n integer)"),
        MigrationPlan.Migration(version: 2, name: "seed", sql: "INSERT INTO things VALUES (40)"),
    ]

    static func answer(adding: Int) -> MigrationPlan.Definition {
        MigrationPlan.Definition(
            name: "answer", after: 1,
            sql: """
                -- after: 0001
                CREATE OR REPLACE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$
                    SELECT COALESCE(sum(n), 0)::integer + \(adding) FROM things $$;
                """)
    }

    @Test func aDefinitionIsAppliedAfterItsMigrationAndAgainOnlyWhenItChanges() async throws {
        try await Self.inScratchSchema { (migrator: Migrator, client: PostgresClient) async throws in
            let first = MigrationPlan(migrations: Self.migrations, definitions: [Self.answer(adding: 2)])
            #expect(try await migrator.migrate(first) == ["0001_things", "definitions/answer", "0002_seed"])
            #expect(try await Self.answer(client) == 42)
            #expect(try await migrator.migrate(first) == [])
            let changed = MigrationPlan(migrations: Self.migrations, definitions: [Self.answer(adding: 3)])
            #expect(try await migrator.migrate(changed) == ["definitions/answer"])
            #expect(try await Self.answer(client) == 43)
        }
    }

    @Test func aRewrittenMigrationIsAcceptedOnlyWithItsReleasedChecksum() async throws {
        try await Self.inScratchSchema { (migrator: Migrator, client: PostgresClient) async throws in
            _ = try await migrator.migrate(MigrationPlan(migrations: Self.migrations))
            let released = Self.migrations[1].checksum
            let rewritten = [
                Self.migrations[0],
                MigrationPlan.Migration(version: 2, name: "seed", sql: "-- seeded\nINSERT INTO things VALUES (40)"),
            ]
            await #expect(throws: Migrator.MigrationError.self) {
                try await migrator.migrate(MigrationPlan(migrations: rewritten))
            }
            let plan = MigrationPlan(migrations: rewritten, superseded: [2: [released]])
            #expect(try await migrator.migrate(plan) == [])
            // The new text is what the database records now: the plan applies cleanly from here on.
            #expect(try await migrator.migrate(MigrationPlan(migrations: rewritten)) == [])
            var rows = 0
            for try await _ in try await client.query("SELECT n FROM things").decode(Int.self) { rows += 1 }
            #expect(rows == 1)
        }
    }
}
