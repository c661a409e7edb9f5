import Auth
import Foundation
import HummingbirdTesting
import Persistence
import Testing

@Suite(.timeLimit(.minutes(3))) struct OperatorTests {
    static func operatorToken() async throws -> String {
        let forge = try await TokenForge.load()
        let issuer = TokenIssuer(
            codec: forge.codec,
            keyring: try await TestEnvironment.withDatabase { client in
                let keyring = SigningKeyring(
                    database: Database(client: client, logger: TestEnvironment.logger),
                    box: try SecretBox(base64MasterKey: try TestEnvironment.configuration.sealing.masterKey),
                    logger: TestEnvironment.logger)
                try await keyring.load(generateIfEmpty: false)
                return keyring
            })
        return try await issuer.operatorToken(subject: "tests", lifetime: .seconds(600))
    }

    @Test func operatorsAndTenantsStayOnTheirOwnRoutes() async throws {
        let operatorToken = try await Self.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await client.send(.get, "/v1/admin/tenants", token: tenant.token).expectProblem(403, "forbidden")
            try await client.send(.get, "/v1/tenant", token: operatorToken).expectProblem(403, "forbidden")
            try await client.send(.get, "/v1/keys", token: operatorToken).expectProblem(403, "forbidden")
            let one = try await client.send(.get, "/v1/admin/tenants/\(tenant.tenantID)", token: operatorToken)
            #expect(try one.jsonObject()["slug"] as? String == tenant.slug)
            try await client.send(.get, "/v1/admin/tenants/\(UUID())", token: operatorToken).expectProblem(
                404, "not_found")
            let list = try await client.send(.get, "/v1/admin/tenants?limit=100", token: operatorToken).jsonObject()
            #expect((list["items"] as? [[String: Any]])?.contains { $0["id"] as? String == tenant.tenantID } == true)
        }
    }

    @Test func aSuspendedTenantsKeysGetTenantSuspendedUntilReactivated() async throws {
        let operatorToken = try await Self.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            #expect(try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok)
            let suspended = try await client.send(
                .patch, "/v1/admin/tenants/\(tenant.tenantID)", token: operatorToken,
                json: ["status": "suspended", "plan": "team"])
            #expect(try suspended.jsonObject()["status"] as? String == "suspended")
            #expect(try suspended.jsonObject()["plan"] as? String == "team")
            try await client.send(.get, "/v1/tenant", token: tenant.token).expectProblem(403, "tenant_suspended")
            let login = try await client.send(
                .post, "/v1/auth/login", json: ["email": tenant.email, "password": tenant.password])
            try login.expectProblem(403, "tenant_suspended")

            _ = try await client.send(
                .patch, "/v1/admin/tenants/\(tenant.tenantID)", token: operatorToken, json: ["status": "active"])
            #expect(try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok)
            let log = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let actions = (log["items"] as? [[String: Any]] ?? []).filter { $0["actor_type"] as? String == "operator" }
            #expect(actions.count == 2)
        }
    }
}
