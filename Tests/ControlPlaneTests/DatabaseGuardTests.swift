import Foundation
import HummingbirdTesting
import PostgresNIO
import Tenancy
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
            try await database.withTenant(tenantID) {
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
