import Edge
import Foundation
import HummingbirdTesting
import Testing

/// A refusal about a member of the request body names it in the problem's `errors`, by a JSON Pointer
/// from the body's root, so a client (the console) can show it at its field; a refusal about a query
/// parameter says so, and points into no body.
@Suite(.timeLimit(.minutes(2))) struct ProblemPointerTests {
    static var route: [String: Any] { ["provider": "mock", "model": "mock-1", "max_tokens": 64, "timeout_ms": 1000] }

    static func policy(routes: [String: Any]) -> [String: Any] {
        [
            "routes": routes, "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 100,
            "cache": ["enabled": false, "ttl_seconds": 60],
        ]
    }

    /// The `errors` of a problem answer, as pointer and detail.
    static func errors(_ answer: TestResponse) throws -> [(pointer: String, detail: String)] {
        let items = try answer.jsonObject()["errors"] as? [[String: Any]] ?? []
        return items.map { (($0["pointer"] as? String) ?? "?", ($0["detail"] as? String) ?? "") }
    }

    @Test func bodyRefusalsNameTheirMember() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            var tooQuick = Self.route
            tooQuick["timeout_ms"] = 10
            var wrongType = Self.route
            wrongType["max_tokens"] = "many"
            var missing = Self.route
            missing["model"] = nil
            let cases: [(String, [String: Any], String)] = [
                (
                    "the policy's own check", Self.policy(routes: ["default": [Self.route, tooQuick]]),
                    "/routes/default/1/timeout_ms"
                ),
                ("a wrong type", Self.policy(routes: ["default": [wrongType]]), "/routes/default/0/max_tokens"),
                ("a missing member", Self.policy(routes: ["default": [missing]]), "/routes/default/0/model"),
                // `/` and `~` in a key are escaped as RFC 6901 says.
                (
                    "a key with / and ~", Self.policy(routes: ["default": [Self.route], "a/b~c": [Self.route]]),
                    "/routes/a~1b~0c"
                ),
            ]
            for (name, body, pointer) in cases {
                let answer = try await client.send(.put, "/v1/policy", token: tenant.token, json: body)
                #expect(answer.status == .badRequest, "\(name)")
                let problem = try answer.jsonObject()
                let errors = try Self.errors(answer)
                #expect(errors.map(\.pointer) == [pointer], "\(name): \(String(buffer: answer.body))")
                #expect(errors.first?.detail == problem["detail"] as? String, "\(name)")
            }

            let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
            let cap = try #require(budget["max_token_limit"] as? Int)
            let over = try await client.send(
                .put, "/v1/budget", token: tenant.token,
                json: ["period": "month", "token_limit": cap + 1, "soft_limit_percent": 80, "on_exhausted": "block"])
            #expect(over.status == .badRequest)
            #expect(try Self.errors(over).map(\.pointer) == ["/token_limit"], "\(String(buffer: over.body))")
        }
    }

    @Test func parameterRefusalsSaySoAndPointNowhere() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for (query, detail) in [
                ("pipeline=nope", "A query or path parameter has a value this operation does not take."),
                ("limit=many", "A query or path parameter has the wrong type."),
            ] {
                let answer = try await client.send(.get, "/v1/analyses?\(query)", token: tenant.token)
                #expect(answer.status == .badRequest)
                #expect(try answer.jsonObject()["detail"] as? String == detail, "\(query)")
                #expect(try answer.jsonObject()["errors"] == nil, "\(query)")
            }
            let notJSON = try await client.send(
                .put, "/v1/policy", token: tenant.token, raw: "{")
            #expect(try notJSON.jsonObject()["detail"] as? String == "The body is not valid JSON.")
        }
    }

    @Test func pointersEscapeAsRFC6901Says() {
        #expect(JSONPointer.to([String]()) == "")
        #expect(JSONPointer.to(["routes", "a/b", "m~n", "0"]) == "/routes/a~1b/m~0n/0")
    }
}
