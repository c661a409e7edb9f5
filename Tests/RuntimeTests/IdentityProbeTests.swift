import Foundation
import Persistence
import PostgresNIO
import TestKit
import Testing

@testable import Runtime

/// Finding a person by address costs a probe of a key, however many people the tenant has (before, each
/// job's and each intervention's lookup read the whole directory: 5,000 rows with 5,000 people), and the
/// addresses follow the people: written, changed and removed with them, under their own tenant.
@Suite(.timeLimit(.minutes(2))) struct IdentityProbeTests {
    static let people = 5000

    @Test func aPersonIsFoundByAnyAddressWithAProbe() async throws {
        try await TestDatabase.with { database in
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "people")
            let otherID = try await TestDatabase.tenant(in: database, prefix: "people-other")
            try await database.withTenant(tenantID) { transaction throws -> Void in
                try await transaction.query(
                    """
                    INSERT INTO identities (tenant_id, email, git_emails, chat_handle, manager_email)
                    SELECT \(tenantID.rawValue), 'person' || n || '@acme.test',
                           ARRAY['Person' || n || '@Home.test'], '@person' || n, 'boss@acme.test'
                    FROM generate_series(1, \(Self.people)) AS n
                    """)
            }
            try await database.withTenant(otherID) { transaction throws -> Void in
                try await transaction.query(
                    "INSERT INTO identities (tenant_id, email, chat_handle) VALUES (\(otherID.rawValue), 'ada@acme.test', '@ada')"
                )
            }
            let wanted = ["person7@home.test", "person4000@acme.test", "ada@acme.test", "nobody@acme.test"]
            let found = try await Self.probe(wanted, tenant: tenantID, database: database)
            #expect(found == ["person7@home.test": "@person7", "person4000@acme.test": "@person4000"])
            #expect(try await Self.probe(wanted, tenant: otherID, database: database) == ["ada@acme.test": "@ada"])
            try await database.withTenant(tenantID) { transaction throws -> Void in
                let query: PostgresQuery = "SELECT * FROM identity_probe(\(wanted))"
                #expect(try await AnalysisStoreTests.rowsRead(query, in: transaction) <= 20)
            }

            // A changed git email moves; a removed person takes their addresses along.
            try await database.withTenant(tenantID) { transaction throws -> Void in
                try await transaction.query(
                    "UPDATE identities SET git_emails = '{person7@work.test}' WHERE email = 'person7@acme.test'")
                try await transaction.query("DELETE FROM identities WHERE email = 'person4000@acme.test'")
            }
            let after = try await Self.probe(
                ["person7@home.test", "person7@work.test", "person4000@acme.test", "person4000@home.test"],
                tenant: tenantID, database: database)
            #expect(after == ["person7@work.test": "@person7"])
        }
    }

    /// Chat handles by address, as `identity_probe` answers them for `tenant`.
    static func probe(_ addresses: [String], tenant: TenantID, database: Database) async throws -> [String: String] {
        try await database.withTenant(tenant) { transaction in
            var found: [String: String] = [:]
            let rows = try await transaction.query(
                "SELECT address, chat_handle FROM identity_probe(\(addresses)) WHERE chat_handle IS NOT NULL")
            for try await (address, handle) in rows.decode((String, String).self) { found[address] = handle }
            return found
        }
    }
}
