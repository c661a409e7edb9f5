import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite(.timeLimit(.minutes(3))) struct SignupTests {
    @Test func signupCreatesTenantOwnerAndFirstKeyWithAllScopes() async throws {
        try await TestEnvironment.withApp { client in
            let slug = uniqueSlug()
            let response = try await client.send(
                .post, "/v1/signup",
                json: [
                    "organization_name": "Acme", "slug": slug, "admin_email": "Owner@\(slug).test",
                    "admin_password": "correct horse battery",
                ])
            #expect(response.status == .created)
            let object = try response.jsonObject()
            let tenant = try #require(object["tenant"] as? [String: Any])
            #expect(tenant["slug"] as? String == slug)
            #expect(tenant["status"] as? String == "active")
            #expect(tenant["timezone"] as? String == "UTC")
            let user = try #require(object["user"] as? [String: Any])
            #expect(user["role"] as? String == "owner")
            let key = try #require(object["api_key"] as? [String: Any])
            #expect((key["scopes"] as? [String])?.count == 17)
            let token = try #require(key["token"] as? String)

            let me = try await client.send(.get, "/v1/tenant", token: token)
            #expect(me.status == .ok)
            #expect(try me.jsonObject()["id"] as? String == tenant["id"] as? String)
            // The token is shown once: the key listing never carries it.
            let keys = try await client.send(.get, "/v1/keys", token: token)
            #expect(!String(buffer: keys.body).contains(token))
            #expect(!String(buffer: keys.body).contains("\"token\""))
        }
    }

    @Test(arguments: [
        ("slug", "A"), ("slug", "-bad-"), ("slug", "UPPER-case"), ("admin_email", "not-an-email"),
        ("admin_email", "a@b"), ("admin_password", "short"), ("organization_name", "   "), ("timezone", "Mars/Olympus"),
    ])
    func signupValidationErrorsAnswer400(field: String, value: String) async throws {
        try await TestEnvironment.withApp { client in
            let slug = uniqueSlug()
            var json: [String: Any] = [
                "organization_name": "Acme", "slug": slug, "admin_email": "\(slug)@example.test",
                "admin_password": "correct horse battery",
            ]
            json[field] = value
            let response = try await client.send(.post, "/v1/signup", json: json)
            try response.expectProblem(400, "invalid_request")
        }
    }

    @Test func takenSlugOrEmailAnswers409() async throws {
        try await TestEnvironment.withApp { client in
            let first = try await client.signup()
            let sameSlug = try await client.send(
                .post, "/v1/signup",
                json: [
                    "organization_name": "Other", "slug": first.slug, "admin_email": "\(uniqueSlug())@example.test",
                    "admin_password": "correct horse battery",
                ])
            try sameSlug.expectProblem(409, "conflict")
            let sameEmail = try await client.send(
                .post, "/v1/signup",
                json: [
                    "organization_name": "Other", "slug": uniqueSlug(), "admin_email": first.email.uppercased(),
                    "admin_password": "correct horse battery",
                ])
            try sameEmail.expectProblem(409, "conflict")
        }
    }

    @Test func twentyIdenticalSignupsRacingHaveExactlyOneWinner() async throws {
        try await TestEnvironment.withApp { client in
            let slug = uniqueSlug()
            let json: [String: Any] = [
                "organization_name": "Race", "slug": slug, "admin_email": "\(slug)@example.test",
                "admin_password": "correct horse battery",
            ]
            let body = try JSONSerialization.data(withJSONObject: json)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.send(.post, "/v1/signup", raw: String(decoding: body, as: UTF8.self)).status
                            .code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // One winner; every other signup is refused as a conflict, or (on a loaded machine, when more
            // arrive at once than the hashing pool's threads and queue hold) answered 503 to retry.
            #expect(statuses.filter { $0 == 201 }.count == 1)
            #expect(statuses.allSatisfy { [201, 409, 503].contains($0) }, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count >= 1)
        }
    }

    /// Behind a trusted proxy (the loopback peer here) the client is the rightmost untrusted entry of
    /// `X-Forwarded-For`; whatever the client writes to its left changes nothing.
    @Test func signupIsThrottledPerClientAddressWhateverTheClientForwards() async throws {
        try await TestEnvironment.withApp(
            .live,
            configure: {
                $0.auth.signupsPerHourPerAddress = 2
                $0.http.trustedProxies = ["127.0.0.1/32"]
            }
        ) { client in
            // A documentation address (RFC 5737) unique to this run, so no other test shares its window.
            let address = "198.51.100.\(Int.random(in: 1...254))"
            var statuses: [Int] = []
            for attempt in 0..<3 {
                let spoofed = "192.0.2.\(attempt + 1), \(UUID().uuidString)"
                let forwarded: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "\(spoofed), \(address)"]
                let slug = uniqueSlug()
                let response = try await client.send(
                    .post, "/v1/signup",
                    json: [
                        "organization_name": "T", "slug": slug, "admin_email": "\(slug)@example.test",
                        "admin_password": "correct horse battery",
                    ], headers: forwarded)
                statuses.append(response.status.code)
                if response.status.code == 429 {
                    try response.expectProblem(429, "rate_limited")
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                }
            }
            #expect(statuses == [201, 201, 429])
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct LoginTests {
    @Test func loginIssuesAShortLivedAccessTokenWithRoleScopes() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let response = try await client.send(
                .post, "/v1/auth/login", json: ["email": tenant.email.uppercased(), "password": tenant.password])
            #expect(response.status == .ok)
            let object = try response.jsonObject()
            #expect(object["token_type"] as? String == "Bearer")
            #expect(object["expires_in"] as? Int == 900)
            let token = try #require(object["access_token"] as? String)
            let me = try await client.send(.get, "/v1/tenant", token: token)
            #expect(try me.jsonObject()["id"] as? String == tenant.tenantID)
        }
    }

    @Test func unknownEmailAndWrongPasswordLookTheSame() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let wrong = try await client.send(
                .post, "/v1/auth/login", json: ["email": tenant.email, "password": "wrong password!!"])
            let unknown = try await client.send(
                .post, "/v1/auth/login",
                json: ["email": "nobody-\(UUID())@example.test", "password": "wrong password!!"])
            try wrong.expectProblem(401, "unauthenticated")
            try unknown.expectProblem(401, "unauthenticated")
            var first = try wrong.jsonObject()
            var second = try unknown.jsonObject()
            first["request_id"] = nil
            second["request_id"] = nil
            #expect(NSDictionary(dictionary: first).isEqual(to: second))
        }
    }

    @Test func fiveFailuresLockTheAccountUntilTheWindowEnds() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for _ in 0..<5 {
                let response = try await client.send(
                    .post, "/v1/auth/login", json: ["email": tenant.email, "password": "wrong password!!"])
                try response.expectProblem(401, "unauthenticated")
            }
            // Now even the right password is not looked at.
            let locked = try await client.send(
                .post, "/v1/auth/login", json: ["email": tenant.email, "password": tenant.password])
            try locked.expectProblem(429, "rate_limited")
            let retryAfter = Int(locked.headers[.retryAfter] ?? "") ?? 0
            #expect(retryAfter > 800 && retryAfter <= 900)
        }
    }
}
