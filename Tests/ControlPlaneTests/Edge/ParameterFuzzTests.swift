import Auth
import ControlPlane
import Foundation
import HTTPTypes
import HummingbirdTesting
import PropertyBased
import Testing

/// Every query, path and header parameter of every route, fuzzed: whatever a parameter holds, the
/// answer is never a 5xx, an error is always a problem document, and the process stays up (a trap
/// would end the whole test run).
@Suite(.timeLimit(.minutes(3))) struct ParameterFuzzTests {
    /// Values that broke servers before: the cursor that trapped this one, integer edges, encodings.
    static let hostile = [
        "", " ", "0", "-1", "1", "100", "101", "-9223372036854775808", "9223372036854775807", "18446744073709551616",
        "1e308", "NaN", "null", "true", "[]", "{}", "LTkyMjMzNzIwMzY4NTQ3NzU4MDh8eA", "LTF8eA", "%00", "\u{0}",
        "..", "../../etc/passwd", "' OR 1=1 --", "\"", "\\", "%", "%ZZ", "\u{FEFF}", "\u{202E}", "💥",
        String(repeating: "A", count: 513), String(repeating: "9", count: 400), "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff", "active", "suspended", "0000-00-00", "0001-01-01", "9999-12-31",
        "2024-02-29", "2026-02-29", "10000-01-01",
    ]

    /// One fuzzed value: a hostile one, or random text from ASCII (control characters included) or
    /// from the wider Unicode planes.
    static let values = zip(
        Gen.int(in: 0...(hostile.count * 2)),
        Gen.ascii.string(of: 0...40),
        Gen<Character>.character(in: "\u{20}"..."\u{D7FF}").string(of: 0...20)
    ).map { choice, ascii, unicode -> String in
        if choice < hostile.count { return hostile[choice] }
        return choice % 2 == 0 ? ascii : unicode
    }

    static func encoded(_ value: String, path: Bool) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? (path ? "x" : "")
    }

    static func check(_ response: TestResponse, _ request: String) {
        #expect(
            response.status.code < 500, "\(request) answered \(response.status.code): \(String(buffer: response.body))")
        if response.status.code >= 400 {
            #expect(response.headers[.contentType] == "application/problem+json", "\(request)")
        }
    }

    @Test func noParameterValueAnswers5xx() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        // GitHub sign-in on, pointed at a port nothing listens on: no fuzzed state is one this server
        // issued, so GitHub is never asked.
        let github = GitHubSignInSettings(
            clientID: "fuzz", clientSecret: "fuzz", redirectURL: "https://cp.example.test/v1/auth/github/callback",
            oauthBaseURL: "http://127.0.0.1:9", apiBaseURL: "http://127.0.0.1:9")
        try await TestEnvironment.withApp(configure: { $0.auth.gitHubSignIn = github }) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            await propertyCheck(count: 60, input: Self.values, Self.values, Self.values) { first, second, third in
                let a = Self.encoded(first, path: false)
                let b = Self.encoded(second, path: false)
                let p = Self.encoded(third, path: true)
                let requests: [(HTTPRequest.Method, String, String, [String: Any]?)] = [
                    (.get, "/v1/keys?limit=\(a)&cursor=\(b)", tenant.token, nil),
                    (.get, "/v1/users?limit=\(a)&cursor=\(b)", tenant.token, nil),
                    (.get, "/v1/audit-log?limit=\(a)&cursor=\(b)", tenant.token, nil),
                    (.get, "/v1/admin/tenants?limit=\(a)&cursor=\(b)&status=\(p)", operatorToken, nil),
                    (.get, "/v1/keys/\(p)", tenant.token, nil),
                    (.delete, "/v1/keys/\(p)", tenant.token, nil),
                    (.post, "/v1/keys/\(p)/rotate", tenant.token, ["grace_seconds": 0]),
                    (.get, "/v1/admin/tenants/\(p)", operatorToken, nil),
                    (.patch, "/v1/admin/tenants/\(p)", operatorToken, [:]),
                    (.get, "/v1/usage?from=\(a)&to=\(b)", tenant.token, nil),
                    (.get, "/v1/admin/usage?from=\(a)&to=\(b)&tenant_id=\(p)", operatorToken, nil),
                    (
                        .put, "/v1/admin/tenants/\(p)/limits", operatorToken,
                        ["max_requests_per_minute": 5, "max_burst": 5]
                    ),
                    (.put, "/v1/admin/tenants/\(p)/budget", operatorToken, ["max_token_limit": 5]),
                    (.get, "/v1/webhooks?limit=\(a)&cursor=\(b)", tenant.token, nil),
                    (.get, "/v1/webhooks/\(p)", tenant.token, nil),
                    (.patch, "/v1/webhooks/\(p)", tenant.token, ["active": true]),
                    (.delete, "/v1/webhooks/\(p)", tenant.token, nil),
                    (.post, "/v1/webhooks/\(p)/rotate-secret", tenant.token, ["grace_seconds": 0]),
                    (
                        .get, "/v1/deliveries?limit=\(a)&cursor=\(b)&status=\(p)&event=\(a)&repository=\(b)",
                        tenant.token, nil
                    ),
                    (.get, "/v1/deliveries/\(p)", tenant.token, nil),
                    (.post, "/v1/deliveries/\(p)/replay", tenant.token, nil),
                    (.get, "/v1/jobs?limit=\(a)&cursor=\(b)&status=\(p)&pipeline=\(a)", tenant.token, nil),
                    (.get, "/v1/jobs/\(p)", tenant.token, nil),
                    (.post, "/v1/jobs/\(p)/retry", tenant.token, nil),
                    (
                        .get, "/v1/analyses?limit=\(a)&cursor=\(b)&repository=\(p)&author=\(a)&pipeline=\(b)&sha=\(p)",
                        tenant.token, nil
                    ),
                    (.get, "/v1/analyses/\(p)", tenant.token, nil),
                    (.get, "/v1/identities?limit=\(a)&cursor=\(b)&email=\(p)", tenant.token, nil),
                    (
                        .put, "/v1/identities", tenant.token,
                        [
                            "items": [
                                [
                                    "email": first, "git_emails": [second, third], "chat_handle": second,
                                    "manager_email": third, "timezone": first,
                                ]
                            ], "delete_missing": true,
                        ]
                    ),
                    (.post, "/v1/hooks/github/\(p)", "", ["zen": "fuzz"]),
                    (.patch, "/v1/users/\(p)", tenant.token, ["role": "member"]),
                    (.get, "/v1/users/invitations?limit=\(a)&cursor=\(b)&status=\(p)", tenant.token, nil),
                    (.delete, "/v1/users/invitations/\(p)", tenant.token, nil),
                    (.delete, "/v1/users/\(p)?keys=\(a)&transfer_to=\(b)", tenant.token, nil),
                    (.post, "/v1/users/invitations", tenant.token, ["email": first, "role": "member"]),
                    (.post, "/v1/auth/accept-invitation", "", ["token": first, "password": second]),
                    (.post, "/v1/auth/refresh", "", ["refresh_token": first]),
                    (.post, "/v1/auth/logout", "", ["refresh_token": second]),
                    (.get, "/v1/auth/github/callback?code=\(a)&state=\(b)&error=\(p)", "", nil),
                    (.get, "/v1/auth/github/callback?code=\(a)&state=\(b)&error_description=\(p)", "", nil),
                    (
                        .get, "/v1/interventions?limit=\(a)&cursor=\(b)&status=\(p)&person=\(a)&repository=\(b)",
                        tenant.token, nil
                    ),
                    (.get, "/v1/interventions/weekly?from=\(a)&to=\(p)", tenant.token, nil),
                    (.post, "/v1/interventions/\(p)/outcome", tenant.token, ["outcome": "accepted"]),
                    (
                        .put, "/v1/interventions/settings", tenant.token,
                        ["tone": first, "slack_webhook_url": second, "escalation_delay_seconds": 60]
                    ),
                ]
                for (method, uri, token, body) in requests {
                    do {
                        let response = try await client.send(method, uri, token: token, json: body)
                        Self.check(response, "\(method) \(uri)")
                    } catch {
                        Issue.record("\(method) \(uri) failed to send: \(error)")
                    }
                }
                // The webhook ingest's own headers, on a real endpoint.
                var hookHeaders: HTTPFields = [:]
                for (name, value) in [
                    ("X-GitHub-Event", first), ("X-GitHub-Delivery", second), ("X-Hub-Signature-256", third),
                ] {
                    if let field = HTTPField.Name(name), HTTPField.isValidValue(value) { hookHeaders[field] = value }
                }
                do {
                    let hook = try await client.send(.post, endpoint.url, raw: #"{"zen":"fuzz"}"#, headers: hookHeaders)
                    Self.check(hook, "POST \(endpoint.url) with \(hookHeaders)")
                } catch {
                    Issue.record("hook request failed to send: \(error)")
                }
                // Header parameters: Idempotency-Key on a creating call, X-Request-Id and Authorization anywhere.
                var headers: HTTPFields = [:]
                if let name = HTTPField.Name("Idempotency-Key"), HTTPField.isValidValue(first) { headers[name] = first }
                if let name = HTTPField.Name("X-Request-Id"), HTTPField.isValidValue(second) { headers[name] = second }
                do {
                    let created = try await client.send(
                        .post, "/v1/keys", token: tenant.token, json: ["name": "fuzz", "scopes": ["tenant:read"]],
                        headers: headers)
                    Self.check(created, "POST /v1/keys with \(headers)")
                    if HTTPField.isValidValue(third) {
                        let forged = try await client.send(.get, "/v1/tenant", headers: [.authorization: third])
                        Self.check(forged, "GET /v1/tenant with Authorization \(third.debugDescription)")
                    }
                } catch {
                    Issue.record("header request failed to send: \(error)")
                }
            }
        }
    }
}
