import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import TestKit
import Testing

/// Defect 9: isolation could be switched off by a deployment mistake, and a tenant transaction could
/// change its own status and plan.
@Suite(.timeLimit(.minutes(3))) struct DatabaseGuardTests {
    @Test func theServerRefusesARoleThatOwnsTheTables() async throws {
        await #expect(throws: DatabaseRoleCheck.Violation.self) {
            try await TestEnvironment.withDatabase(owner: true) { client in
                try await DatabaseRoleCheck.verify(Database(client: client, logger: TestEnvironment.logger))
            }
        }
        try await TestEnvironment.withDatabase { client in
            try await DatabaseRoleCheck.verify(Database(client: client, logger: TestEnvironment.logger))
        }
    }

    @Test func aTenantTransactionCannotChangeItsOwnStatusOrPlan() async throws {
        let tenant = try await TestEnvironment.withApp { try await $0.signup() }
        let tenantID = try #require(TenantID(string: tenant.tenantID))
        try await TestEnvironment.withDatabase { client in
            let database = Database(client: client, logger: TestEnvironment.logger)
            for statement: PostgresQuery in [
                "UPDATE tenants SET status = 'active', plan = 'enterprise' WHERE tenant_id = \(tenantID.rawValue)",
                "SELECT * FROM operator_update_tenant(\(tenantID.rawValue), 'active', 'enterprise')",
            ] {
                await #expect {
                    try await database.withTenant(tenantID) { for try await _ in try await $0.query(statement) {} }
                } throws: { sqlState($0) == "42501" }
            }
            // Name and timezone stay the tenant's to change.
            _ = try await database.withTenant(tenantID) {
                try await $0.query("UPDATE tenants SET name = 'Renamed' WHERE tenant_id = \(tenantID.rawValue)")
            }
        }
    }

    /// A statement whose error arrives in a row stream that is never read aborts the transaction; the
    /// COMMIT that Postgres then answers with ROLLBACK must fail the call, not pass for success.
    @Test func aTransactionThatPostgresRolledBackAtCommitThrows() async throws {
        let tenantID = TenantID.generate()
        try await TestEnvironment.withDatabase { client in
            let database = Database(client: client, logger: TestEnvironment.logger)
            await #expect(throws: TransactionRolledBack.self) {
                try await database.withTenant(tenantID) { transaction in
                    _ = try await transaction.query(
                        "SELECT * FROM operator_update_tenant(\(tenantID.rawValue), NULL, NULL)")
                }
            }
        }
    }

    /// Rule 5: the pool is shared by every tenant of a replica. A tenant with more work open than its
    /// share (a gateway flood: each call a reservation and a settlement) holds only its share: its
    /// transactions and the one-statement functions run for it (`query(_:for:)`) wait in its own line,
    /// and another tenant's are served at once.
    @Test func oneTenantCannotHoldEveryPooledConnection() async throws {
        try await TestEnvironment.withDatabase(connections: 4) { client in
            let database = Database(
                client: client, logger: TestEnvironment.logger, poolSize: 4, connectionsPerTenant: 2)
            let flooding = TenantID.generate()
            let release = TestLatch()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await database.withTenant(flooding) { _ in await release.wait() }
                    }
                }
                defer { release.open() }
                try await waitUntil { database.tenantShares.waiting(for: flooding) == 4 }
                group.addTask { for try await _ in try await database.query("SELECT 1", for: flooding) {} }
                try await waitUntil { database.tenantShares.waiting(for: flooding) == 5 }
                #expect(database.tenantShares.held(by: flooding) == 2)
                let other = TenantID.generate()
                let answered = try await Abandon.within(.seconds(5)) {
                    let viaFunction = try await database.query("SELECT 1", for: other)
                    for try await _ in viaFunction {}
                    return try await database.withTenant(other) { transaction in
                        for try await one in try await transaction.query("SELECT 1").decode(Int.self) { return one }
                        return 0
                    }
                }
                #expect(answered == 1)
                release.open()
                try await group.waitForAll()
            }
            #expect(database.tenantShares.held(by: flooding) == 0)
        }
    }

    /// Waits until `condition` holds, for at most 10 s.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    @Test func everyScopeSetsBothSettings() async throws {
        try await TestEnvironment.withDatabase { client in
            let database = Database(client: client, logger: TestEnvironment.logger)
            let tenantID = TenantID.generate()
            for scope: TransactionScope in [.tenant(tenantID), .operator(actingOn: nil), .platform, .maintenance] {
                let (tenant, isOperator) = try await database.transaction(scope) { connection in
                    for try await row in try await connection.query(
                        "SELECT current_setting('app.tenant_id', true), current_setting('app.operator', true)",
                        logger: TestEnvironment.logger
                    ).decode((String?, String?).self) {
                        return row
                    }
                    return (nil, nil)
                }
                switch scope {
                case .tenant: #expect(tenant == tenantID.description && isOperator == "")
                case .operator: #expect(tenant == "" && isOperator == "on")
                default: #expect(tenant == "" && isOperator == "")
                }
            }
        }
    }

    @Test func theApplicationRoleCannotCreateTemporaryTablesOrChangeSigningKeys() async throws {
        try await TestEnvironment.withDatabase { client in
            for statement: PostgresQuery in [
                "CREATE TEMPORARY TABLE smuggle (x int)", "UPDATE signing_keys SET retired_at = now()",
            ] {
                await #expect {
                    for try await _ in try await client.query(statement) {}
                } throws: { sqlState($0) == "42501" }
            }
        }
    }
}
