import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestKit
import Testing

@Suite(.timeLimit(.minutes(3))) struct PlumbingTests {
    @Test func everyResponseCarriesARequestIDAndSecurityHeaders() async throws {
        try await TestEnvironment.withApp { client in
            for uri in ["/healthz", "/v1/tenant", "/no/such/route"] {
                let response = try await client.send(.get, uri)
                #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!]?.hasPrefix("max-age=") == true)
                #expect(
                    response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true
                )
                #expect(response.headers[.cacheControl] == "no-store")
            }
            let traced = try await client.send(
                .get, "/healthz", headers: [HTTPField.Name("X-Request-Id")!: "trace-123"])
            #expect(traced.headers[HTTPField.Name("X-Request-Id")!] == "trace-123")
            let hostile = try await client.send(
                .get, "/healthz", headers: [HTTPField.Name("X-Request-Id")!: "bad id\u{7f}"])
            #expect(hostile.headers[HTTPField.Name("X-Request-Id")!] != "bad id\u{7f}")
            try await client.send(.get, "/no/such/route").expectProblem(404, "not_found")
        }
    }

    @Test func readinessChecksPostgresAndRedis() async throws {
        try await TestEnvironment.withApp { client in
            // Ready once its startup checks have passed (a probe is polled; the first may come earlier).
            #expect(
                try await waitUntil(timeout: .seconds(10)) { try await client.send(.get, "/readyz").status == .ok }
                    != nil)
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect((try ready.jsonObject()["checks"] as? [String: String]) == ["postgres": "up", "redis": "up"])
        }
        try await TestEnvironment.withApp(configure: { $0.redis.url = "redis://127.0.0.1:1" }) { client in
            try await client.send(.get, "/readyz").expectProblem(503, "unavailable")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await TestEnvironment.withApp { client in
            _ = try await client.send(.get, "/healthz")
            _ = try await client.send(.get, "/v1/tenant")
            let metrics = String(buffer: try await client.send(.get, "/metrics").body)
            #expect(metrics.contains(#"http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
            #expect(metrics.contains(#"http_requests_total{route="/v1/tenant",method="GET",status="401"} 1"#))
            #expect(metrics.contains("http_request_duration_seconds_bucket"))
        }
    }

    @Test func jwksPublishesTheEd25519VerificationKeys() async throws {
        try await TestEnvironment.withApp { client in
            let jwks = try await client.send(.get, "/.well-known/jwks.json").jsonObject()
            let keys = try #require(jwks["keys"] as? [[String: String]])
            #expect(!keys.isEmpty)
            #expect(
                keys.allSatisfy {
                    $0["kty"] == "OKP" && $0["crv"] == "Ed25519" && $0["alg"] == "EdDSA" && $0["kid"] != nil
                })
            #expect(keys.allSatisfy { $0["d"] == nil })
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct BadInputTests {
    @Test(arguments: [
        ("{\"name\":", "malformed JSON"),
        ("[]", "an array"),
        ("{\"name\": 5, \"scopes\": [\"tenant:read\"]}", "a number for a string"),
        ("{\"name\": \"x\", \"scopes\": \"tenant:read\"}", "a string for an array"),
        ("{\"name\": \"x\"}", "a missing field"),
        ("{\"name\": \"x\", \"scopes\": [\"tenant:read\"], \"admin\": true}", "an unknown field"),
        ("{\"name\": \"x\", \"scopes\": [\"root\"]}", "an unknown scope"),
        ("{\"name\": \"x\", \"scopes\": []}", "no scopes"),
        ("{\"name\": \"x\", \"scopes\": [\"tenant:read\"], \"expires_in_seconds\": 1}", "a too short life"),
        ("{\"name\": \"x\", \"scopes\": [\"tenant:read\"], \"expires_in_seconds\": \"soon\"}", "a string for a number"),
        ("", "an empty body"),
    ])
    func malformedBodiesAnswer400NeverA500(body: String, _ what: String) async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let response = try await client.send(.post, "/v1/keys", token: tenant.token, raw: body)
            try response.expectProblem(400, "invalid_request")
        }
    }

    @Test func wrongContentTypeAnswers400() async throws {
        try await TestEnvironment.withApp { client in
            let response = try await client.send(
                .post, "/v1/auth/login", raw: "email=a", headers: [.contentType: "application/x-www-form-urlencoded"])
            try response.expectProblem(400, "invalid_request")
        }
    }

    @Test func oversizedBodiesAnswer413BeforeBeingRead() async throws {
        try await TestEnvironment.withApp(configure: { $0.http.maxBodyBytes = 1024 }) { client in
            let big = "{\"email\": \"\(String(repeating: "a", count: 4096))@example.test\", \"password\": \"x\"}"
            try await client.send(.post, "/v1/auth/login", raw: big).expectProblem(413, "payload_too_large")
        }
    }

    /// A declared length over the limit is refused at once: the server answers while the client has sent
    /// only the head, so it never waits for (or buffers) the 10 MB it was promised.
    @Test func aDeclaredLengthOverTheLimitIsRefusedBeforeTheBodyArrives() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.http.maxBodyBytes = 1024 }) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 10485760\r\nConnection: close\r\n\r\n{"
            let answer = try await RawHTTP.exchange(port: port, request: head, timeoutSeconds: 20)
            #expect(answer.hasPrefix("HTTP/1.1 413"), "answered: \(answer.prefix(80))")
            #expect(answer.contains("payload_too_large"))
        }
    }

    @Test func badTenantAndAdminChangesAnswer400() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await client.send(.patch, "/v1/tenant", token: tenant.token, json: ["timezone": "Nowhere/Else"])
                .expectProblem(400, "invalid_request")
            try await client.send(.patch, "/v1/tenant", token: tenant.token, json: ["name": ""])
                .expectProblem(400, "invalid_request")
            try await client.send(.patch, "/v1/tenant", token: tenant.token, json: ["status": "active"])
                .expectProblem(400, "invalid_request")
            try await client.send(
                .post, "/v1/keys/\(tenant.keyID)/rotate", token: tenant.token, json: ["grace_seconds": -1]
            )
            .expectProblem(400, "invalid_request")
            let renamed = try await client.send(
                .patch, "/v1/tenant", token: tenant.token, json: ["name": "New", "timezone": "Europe/Berlin"])
            #expect(try renamed.jsonObject()["timezone"] as? String == "Europe/Berlin")
        }
    }
}
