import Billing
import ControlPlaneClient
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import PostgresNIO
import Testing

@testable import ControlPlane

/// Defects 5, 6 and 10: the signup record kept an unsalted SHA-256 of a body holding the password,
/// forever; records belonged to the tenant, so another caller replaying a key got the first caller's
/// token; and an Idempotency-Key over ~2.7 KB overflowed the index (500).
@Suite(.timeLimit(.minutes(3))) struct IdempotencyTests {
    static func idempotencyKey(_ key: String) -> HTTPFields { [HTTPField.Name("Idempotency-Key")!: key] }

    @Test func theSignupFingerprintIsKeyedAndTheAnswerHoldsNoPassword() async throws {
        let key = UUID().uuidString
        let slug = uniqueSlug()
        let password = "correct horse battery \(UUID())"
        let request = Components.Schemas.SignupRequest(
            organizationName: "Org", slug: slug, adminEmail: "\(slug)@example.test", adminPassword: password)
        try await TestEnvironment.withApp { client in
            let body = try JSONEncoder().encode(request)
            let response = try await client.send(
                .post, "/v1/signup", raw: String(decoding: body, as: UTF8.self), headers: Self.idempotencyKey(key))
            #expect(response.status == .created)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var unkeyed = SHA256()
        unkeyed.update(data: Data("signup".utf8))
        unkeyed.update(data: Data([0]))
        unkeyed.update(data: try encoder.encode(request))
        let unkeyedDigest = Data(unkeyed.finalize())
        let box = try SecretBox(base64MasterKey: try TestEnvironment.configuration.sealing.masterKey)
        try await TestEnvironment.withDatabase { database in
            var found = false
            for try await (hash, sealed) in try await database.query(
                "SELECT request_hash, response_sealed FROM signup_idempotency_records WHERE idem_key = \(key)"
            ).decode((Data, Data).self) {
                found = true
                #expect(hash != unkeyedDigest, "the fingerprint is a bare SHA-256 of the body")
                let answer = try box.open(sealed, context: "idempotency:signup:\(key)")
                #expect(!String(decoding: answer, as: UTF8.self).contains(password))
            }
            #expect(found)
        }
    }

    @Test func anotherCallerReplayingAnIdempotencyKeyGetsItsOwnKey() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.createKey(token: tenant.token, scopes: ["keys:write", "tenant:read"])
            let body: [String: Any] = ["name": "ci", "scopes": ["tenant:read"]]
            let key = Self.idempotencyKey(UUID().uuidString)
            let first = try await client.send(.post, "/v1/keys", token: tenant.token, json: body, headers: key)
                .jsonObject()
            let replay = try await client.send(.post, "/v1/keys", token: tenant.token, json: body, headers: key)
                .jsonObject()
            #expect(replay["id"] as? String == first["id"] as? String, "the same caller gets its answer again")
            let second = try await client.send(.post, "/v1/keys", token: other.token, json: body, headers: key)
            #expect(second.status == .created)
            let secondObject = try second.jsonObject()
            #expect(secondObject["id"] as? String != first["id"] as? String)
            #expect(secondObject["token"] as? String != first["token"] as? String)
        }
    }

    @Test(arguments: [String(repeating: "k", count: 3000), String(repeating: "k", count: 256), "tab\tkey", "ünïcode"])
    func badIdempotencyKeysAnswer400(key: String) async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let response = try await client.send(
                .post, "/v1/keys", token: tenant.token, json: ["name": "x", "scopes": ["tenant:read"]],
                headers: Self.idempotencyKey(key))
            try response.expectProblem(400, "invalid_request")
        }
    }

    @Test func recordsOlderThanADayArePruned() async throws {
        let (tenant, old, fresh) = try await TestEnvironment.withApp { client in
            (try await client.signup(), UUID().uuidString, UUID().uuidString)
        }
        let tenantID = try #require(TenantID(string: tenant.tenantID))
        try await TestEnvironment.withDatabase { client in
            let database = Database(client: client, logger: TestEnvironment.logger)
            try await database.withTenant(tenantID) { transaction in
                for (key, age) in [(old, "25 hours"), (fresh, "1 hour")] {
                    try await transaction.query(
                        """
                        INSERT INTO idempotency_records
                            (tenant_id, caller, idem_key, operation, request_hash, status_code, response_sealed, created_at)
                        VALUES (\(tenantID.rawValue), 'test', \(key), 'createKey', '\\x00'::bytea, 201, '\\x00'::bytea,
                                now() - \(age)::interval)
                        """)
                }
            }
            try await Housekeeping(
                database: database, budget: TokenBudget(database: database, reservationLifetime: .seconds(60)),
                interval: .seconds(60), logger: TestEnvironment.logger
            ).prune()
            let left = try await database.withTenant(tenantID) { transaction in
                var keys: [String] = []
                for try await key in try await transaction.query(
                    "SELECT idem_key FROM idempotency_records WHERE tenant_id = \(tenantID.rawValue) AND caller = 'test'"
                ).decode(String.self) {
                    keys.append(key)
                }
                return keys
            }
            #expect(left == [fresh])
        }
    }
}
