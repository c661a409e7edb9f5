import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite(.timeLimit(.minutes(3))) struct IsolationTests {
    @Test func crossTenantKeyIDsAnswerNotFound() async throws {
        try await TestEnvironment.withApp { client in
            let a = try await client.signup()
            let b = try await client.signup()
            let other = "/v1/keys/\(b.keyID)"
            try await client.send(.get, other, token: a.token).expectProblem(404, "not_found")
            try await client.send(.delete, other, token: a.token).expectProblem(404, "not_found")
            try await client.send(.post, other + "/rotate", token: a.token, json: ["grace_seconds": 0])
                .expectProblem(404, "not_found")
            // B's key was untouched by A's attempts.
            #expect(try await client.send(.get, "/v1/tenant", token: b.token).status == .ok)
            // Its own id answers; malformed ids are simply not found.
            #expect(try await client.send(.get, "/v1/keys/\(a.keyID)", token: a.token).status == .ok)
            try await client.send(.get, "/v1/keys/not-a-uuid", token: a.token).expectProblem(404, "not_found")
        }
    }

    @Test func listsNeverContainAnotherTenantsObjects() async throws {
        try await TestEnvironment.withApp { client in
            let a = try await client.signup()
            let b = try await client.signup()
            _ = try await client.createKey(token: b.token, scopes: ["tenant:read"])
            let keys = try await client.send(.get, "/v1/keys", token: a.token)
            let items = try #require(try keys.jsonObject()["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [a.keyID])
            let audit = try await client.send(.get, "/v1/audit-log", token: a.token)
            let events = try #require(try audit.jsonObject()["items"] as? [[String: Any]])
            #expect(!events.isEmpty)
            #expect(
                events.allSatisfy {
                    ($0["target_id"] as? String) != b.tenantID && ($0["target_id"] as? String) != b.keyID
                })
        }
    }

    @Test func interleavedRequestsOfTwoTenantsNeverSeeEachOther() async throws {
        try await TestEnvironment.withApp { client in
            let a = try await client.signup()
            let b = try await client.signup()
            let tenants = [a, b]
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                var started = 0
                var mismatches = 0
                func launch(_ index: Int) {
                    let tenant = tenants[index % 2]
                    group.addTask {
                        if index % 4 < 2 {
                            let response = try await client.send(.get, "/v1/tenant", token: tenant.token)
                            return try response.jsonObject()["id"] as? String == tenant.tenantID ? 0 : 1
                        }
                        let response = try await client.send(.get, "/v1/keys", token: tenant.token)
                        let ids = (try response.jsonObject()["items"] as? [[String: Any]] ?? []).compactMap {
                            $0["id"] as? String
                        }
                        return ids == [tenant.keyID] ? 0 : 1
                    }
                }
                // 200 requests, at most 50 in flight.
                while started < 50 {
                    launch(started)
                    started += 1
                }
                while let result = try await group.next() {
                    mismatches += result
                    if started < 200 {
                        launch(started)
                        started += 1
                    }
                }
                return mismatches
            }
            #expect(mismatches == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct DatabaseIsolationTests {
    @Test func withNoTenantSetEveryTenantTableReadsEmpty() async throws {
        try await TestEnvironment.withApp { client in _ = try await client.signup() }
        try await TestEnvironment.withDatabase { database in
            for table in ["tenants", "users", "api_keys", "audit_events", "idempotency_records"] {
                let rows = try await database.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
                for try await count in rows.decode(Int.self) { #expect(count == 0, "\(table) showed \(count) rows") }
            }
        }
    }

    /// The one-statement paths set the tenant for their own implicit transaction only: the next statement
    /// on the same pooled connection runs with no tenant and sees no tenant rows.
    @Test func oneStatementPathsLeaveNoTenantOnTheConnection() async throws {
        let a = try await TestEnvironment.withApp { client in try await client.signup() }
        let tenantA = try #require(UUID(uuidString: a.tenantID))
        let logger = TestEnvironment.logger
        try await TestEnvironment.withDatabase { database in
            try await database.withConnection { connection in
                var ids: [UUID] = []
                for try await id in try await connection.query(
                    "SELECT tenant_id FROM tenant_read(\(tenantA))", logger: logger
                ).decode(UUID.self) {
                    ids.append(id)
                }
                #expect(ids == [tenantA], "tenant_read answers the tenant's own row and only it")
                let subject = Data([1, 2, 3])
                let statements: [PostgresQuery] = [
                    "SELECT 1 FROM tenant_read(\(tenantA))", "SELECT 1 FROM rate_limit_take(\(tenantA))",
                    try "SELECT 1 FROM llm_call_plan(\(tenantA), \(subject), \(60.0))",
                ]
                for statement in statements {
                    try await connection.query(statement, logger: logger)
                    for try await (setting, visible) in try await connection.query(
                        "SELECT COALESCE(current_setting('app.tenant_id', true), ''), (SELECT count(*) FROM tenants)",
                        logger: logger
                    ).decode((String, Int).self) {
                        #expect(setting == "", "\(statement.sql) left the tenant set")
                        #expect(visible == 0, "\(statement.sql) left tenant rows visible")
                    }
                }
            }
        }
    }

    @Test func insertingAnotherTenantsRowIsRefused() async throws {
        let (a, b) = try await TestEnvironment.withApp { client in
            (try await client.signup(), try await client.signup())
        }
        try await TestEnvironment.withDatabase { database in
            let refused = try await database.withConnection { connection -> Bool in
                try await connection.query("BEGIN", logger: TestEnvironment.logger)
                try await connection.query(
                    "SELECT set_config('app.tenant_id', \(a.tenantID), true)", logger: TestEnvironment.logger)
                do {
                    try await connection.query(
                        """
                        INSERT INTO api_keys (tenant_id, key_id, name, scopes, created_by, expires_at)
                        VALUES (\(UUID(uuidString: b.tenantID)!), \(UUID()), 'smuggled', ARRAY['tenant:read'], 'test',
                                now() + interval '1 day')
                        """, logger: TestEnvironment.logger)
                    try await connection.query("ROLLBACK", logger: TestEnvironment.logger)
                    return false
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: TestEnvironment.logger)
                    // 42501: new row violates row-level security policy.
                    return (error as? PSQLError)?.serverInfo?[.sqlState] == "42501"
                }
            }
            #expect(refused)
            // Nor can A's transaction move its own row over to B.
            let moved = try await database.withConnection { connection -> Int in
                try await connection.query("BEGIN", logger: TestEnvironment.logger)
                try await connection.query(
                    "SELECT set_config('app.tenant_id', \(a.tenantID), true)", logger: TestEnvironment.logger)
                do {
                    try await connection.query(
                        "UPDATE api_keys SET tenant_id = \(UUID(uuidString: b.tenantID)!) WHERE key_id = \(UUID(uuidString: a.keyID)!)",
                        logger: TestEnvironment.logger)
                    try await connection.query("ROLLBACK", logger: TestEnvironment.logger)
                    return 1
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: TestEnvironment.logger)
                    return 0
                }
            }
            #expect(moved == 0)
        }
    }

    @Test func applicationRoleIsNeitherOwnerNorSuperuserNorBypassRLS() async throws {
        try await TestEnvironment.withDatabase { database in
            let rows = try await database.query(
                """
                SELECT r.rolsuper, r.rolbypassrls,
                       (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user)::int
                FROM pg_roles r WHERE r.rolname = current_user
                """)
            var checked = false
            for try await (superuser, bypass, owned) in rows.decode((Bool, Bool, Int).self) {
                #expect(!superuser)
                #expect(!bypass)
                #expect(owned == 0)
                checked = true
            }
            #expect(checked)
            // Every tenant table forces RLS.
            let forced = try await database.query(
                """
                SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class
                WHERE relname IN ('tenants', 'users', 'api_keys', 'audit_events', 'idempotency_records', 'login_directory')
                """)
            var tables = 0
            for try await (name, isForced) in forced.decode((String, Bool).self) {
                #expect(isForced, "\(name) does not force row-level security")
                tables += 1
            }
            #expect(tables == 6)
        }
    }
}
