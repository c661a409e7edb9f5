import AsyncHTTPClient
import ControlPlane
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Per-tenant rate limits, checked in Postgres on every authenticated request: a burst lets through at
/// most the limit plus the burst, whatever the number of connections or replicas, and never touches
/// another tenant.
@Suite(.timeLimit(.minutes(3))) struct RateLimitTests {
    /// N requests per minute, so a burst sent within seconds may pass at most `burst` plus what refills.
    static let perMinute = 60
    static let burst = 10

    static func limited(_ configuration: inout Configuration) {
        configuration.billing.defaultRequestsPerMinute = perMinute
        configuration.billing.defaultBurst = burst
    }

    /// Sends `count` GET /v1/tenant over `connections` keep-alive connections to `ports` (spread over
    /// them in turn); answers the status codes and the responses' rate-limit headers.
    static func burst(
        _ count: Int, connections: Int, ports: [Int], token: String
    ) async throws -> [(status: Int, headers: [String: String])] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        return try await withThrowingTaskGroup(of: [(Int, [String: String])].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    var answers: [(Int, [String: String])] = []
                    for index in stride(from: connection, to: count, by: connections) {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(ports[index % ports.count])/v1/tenant")
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        var headers: [String: String] = [:]
                        for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"] {
                            headers[name] = response.headers.first(name: name)
                        }
                        answers.append((Int(response.status.code), headers))
                    }
                    return answers
                }
            }
            var all: [(status: Int, headers: [String: String])] = []
            for try await answers in group { all += answers.map { (status: $0.0, headers: $0.1) } }
            return all
        }
    }

    @Test func aBurstOf3NOver10ConnectionsLetsThroughAtMostNPlusBurst() async throws {
        try await TestEnvironment.withApp(.live, configure: Self.limited) { client in
            let port = try #require(client.port)
            let tenant = try await client.signup()
            let bystander = try await client.signup()
            let started = ContinuousClock.now
            let answers = try await Self.burst(3 * Self.perMinute, connections: 10, ports: [port], token: tenant.token)
            let elapsed = ContinuousClock.now - started
            let passed = answers.filter { $0.status == 200 }.count
            let refused = answers.filter { $0.status == 429 }
            #expect(passed + refused.count == 3 * Self.perMinute, "only 200 and 429 were expected")
            // The bucket holds `burst` and refills one request per second at 60 a minute.
            let refilled = Int((Double(elapsed.components.seconds) + 1).rounded(.up))
            #expect(passed >= Self.burst && passed <= Self.burst + refilled, "passed \(passed) in \(elapsed)")
            #expect(passed <= Self.perMinute + Self.burst)
            for answer in answers {
                #expect(answer.headers["RateLimit-Limit"] == String(Self.perMinute))
                #expect(
                    answer.headers["RateLimit-Remaining"].flatMap(Int.init).map { (0...Self.burst).contains($0) }
                        == true)
                #expect(answer.headers["RateLimit-Reset"].flatMap(Int.init) != nil)
            }
            for answer in refused {
                let retryAfter = try #require(answer.headers["Retry-After"].flatMap(Int.init))
                #expect((1...60).contains(retryAfter))
            }

            // Another tenant's bucket is untouched.
            let other = try await client.send(.get, "/v1/tenant", token: bystander.token)
            #expect(other.status == .ok)
            #expect(other.headers[HTTPField.Name("RateLimit-Remaining")!] == String(Self.burst - 1))

            // What refilled while the burst ran is spent within `burst + 1` more requests; then comes a refusal.
            var refusal: TestResponse?
            for _ in 0...(Self.burst + 1) {
                let response = try await client.send(.get, "/v1/tenant", token: tenant.token)
                if response.status.code == 429 {
                    refusal = response
                    break
                }
            }
            let problem = try #require(refusal)
            try problem.expectProblem(429, "rate_limited")
            #expect(problem.headers[.retryAfter] != nil)
            let metrics = String(buffer: try await client.send(.get, "/metrics").body)
            #expect(metrics.contains("controlplane_rate_limited_total{tenant=\"\(tenant.tenantID)\"}"))
        }
    }

    @Test func twoServerInstancesShareOneLimit() async throws {
        try await TestEnvironment.withApp(.live, configure: Self.limited) { first in
            try await TestEnvironment.withApp(.live, configure: Self.limited) { second in
                let ports = [try #require(first.port), try #require(second.port)]
                let tenant = try await first.signup()
                let started = ContinuousClock.now
                let answers = try await Self.burst(
                    3 * Self.perMinute, connections: 10, ports: ports, token: tenant.token)
                let elapsed = ContinuousClock.now - started
                let passed = answers.filter { $0.status == 200 }.count
                let refilled = Int((Double(elapsed.components.seconds) + 1).rounded(.up))
                #expect(passed >= Self.burst && passed <= Self.burst + refilled, "passed \(passed) in \(elapsed)")
            }
        }
    }

    /// Refusals (429) wait before they go, at most `holdsPerSource` of one tenant at once: a tenant's
    /// clients that retry at once are held to the server's pace, those past the bound are answered at
    /// once, and another tenant's refusals have their own bound.
    @Test func refusalsArePausedAtMostABoundPerSource() async throws {
        let pause = Duration.seconds(3)
        try await TestEnvironment.withApp(
            configure: {
                $0.billing.defaultRequestsPerMinute = 1
                $0.billing.defaultBurst = 1
                $0.http.refusalPacing = pause
                $0.http.refusalPacingHoldsPerSource = 3
            }
        ) { client in
            let flooder = try await client.signup()
            let neighbour = try await client.signup()
            for tenant in [flooder, neighbour] {
                _ = try await client.send(.get, "/v1/tenant", token: tenant.token)
            }
            // Five refusals of the flooder and two of the neighbour at once.
            let answers = try await withThrowingTaskGroup(of: (String, Int, Duration).self) { group in
                for (name, tenant, count) in [("flooder", flooder, 5), ("neighbour", neighbour, 2)] {
                    for _ in 0..<count {
                        group.addTask {
                            let started = ContinuousClock.now
                            let status = try await client.send(.get, "/v1/tenant", token: tenant.token).status.code
                            return (name, Int(status), ContinuousClock.now - started)
                        }
                    }
                }
                return try await group.reduce(into: [(String, Int, Duration)]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.1 == 429 }, "\(answers)")
            // A pause is the pacing times a random factor from one half to one; an answer not paused goes at once.
            let paused = answers.filter { $0.2 >= pause / 2 }
            #expect(paused.filter { $0.0 == "flooder" }.count == 3, "\(answers)")
            #expect(paused.filter { $0.0 == "neighbour" }.count == 2, "\(answers)")
            // Answers that are not refusals go at once.
            let missing = try await client.send(.get, "/nothing-here")
            #expect(missing.status == .notFound)
        }
    }

    /// Refusals that came together do not come back together: each pause is the pacing times its own
    /// random factor from one half to one, so a tenant's clients at its rate limit, retrying as soon as
    /// they are answered, do not return as one burst every pause for other tenants to wait behind.
    @Test func refusalsThatCameTogetherAreAnsweredApart() async throws {
        let pause = Duration.seconds(1)
        try await TestEnvironment.withApp(
            configure: {
                $0.billing.defaultRequestsPerMinute = 1
                $0.billing.defaultBurst = 1
                $0.http.refusalPacing = pause
            }
        ) { client in
            let tenant = try await client.signup()
            _ = try await client.send(.get, "/v1/tenant", token: tenant.token)
            let waits = try await withThrowingTaskGroup(of: Duration.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let started = ContinuousClock.now
                        let answer = try await client.send(.get, "/v1/tenant", token: tenant.token)
                        #expect(answer.status.code == 429)
                        return ContinuousClock.now - started
                    }
                }
                return try await group.reduce(into: [Duration]()) { $0.append($1) }
            }
            // Twelve factors drawn from one half to one span less than a twentieth of the pause about once in
            // ten billion runs; without the factor they span a few milliseconds.
            let spread = (waits.max() ?? .zero) - (waits.min() ?? .zero)
            #expect(waits.allSatisfy { $0 >= pause / 2 }, "\(waits)")
            #expect(spread >= pause / 20, "\(waits)")
        }
    }

    @Test func errorsCarryTheHeadersAndOperatorsAreNotCounted() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        // One request a minute refills, so the count cannot move between the requests below.
        let slowRefill: (inout Configuration) -> Void = {
            $0.billing.defaultRequestsPerMinute = 1
            $0.billing.defaultBurst = Self.burst
        }
        try await TestEnvironment.withApp(configure: slowRefill) { client in
            let tenant = try await client.signup()
            let missing = try await client.send(.get, "/v1/keys/\(UUID())", token: tenant.token)
            try missing.expectProblem(404, "not_found")
            #expect(missing.headers[HTTPField.Name("RateLimit-Remaining")!] == String(Self.burst - 1))
            for _ in 0..<5 {
                let admin = try await client.send(.get, "/v1/admin/tenants/\(tenant.tenantID)", token: operatorToken)
                #expect(admin.status == .ok)
                #expect(admin.headers[HTTPField.Name("RateLimit-Limit")!] == nil)
            }
            let next = try await client.send(.get, "/v1/tenant", token: tenant.token)
            #expect(next.headers[HTTPField.Name("RateLimit-Remaining")!] == String(Self.burst - 2))
        }
    }

    @Test func limitsStayWithinTheOperatorsCaps() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        try await TestEnvironment.withApp(configure: Self.limited) { client in
            let tenant = try await client.signup()
            let limits = try await client.send(.get, "/v1/limits", token: tenant.token).jsonObject()
            #expect(limits["requests_per_minute"] as? Int == Self.perMinute)
            #expect(limits["max_burst"] as? Int == Self.burst)

            try await client.send(
                .put, "/v1/limits", token: tenant.token, json: ["requests_per_minute": 61, "burst": 5]
            ).expectProblem(400, "invalid_request")
            let lowered = try await client.send(
                .put, "/v1/limits", token: tenant.token, json: ["requests_per_minute": 30, "burst": 5])
            #expect(try lowered.jsonObject()["requests_per_minute"] as? Int == 30)
            #expect(lowered.headers[HTTPField.Name("RateLimit-Limit")!] == String(Self.perMinute))
            let after = try await client.send(.get, "/v1/limits", token: tenant.token)
            #expect(after.headers[HTTPField.Name("RateLimit-Limit")!] == "30")

            let raised = try await client.send(
                .put, "/v1/admin/tenants/\(tenant.tenantID)/limits", token: operatorToken,
                json: ["max_requests_per_minute": 6000, "max_burst": 500])
            #expect(try raised.jsonObject()["max_requests_per_minute"] as? Int == 6000)
            #expect(try raised.jsonObject()["requests_per_minute"] as? Int == 30)
            let own = try await client.send(
                .put, "/v1/limits", token: tenant.token, json: ["requests_per_minute": 6000, "burst": 500])
            #expect(own.status == .ok)
            // Lowering a cap below the tenant's setting lowers the setting.
            let capped = try await client.send(
                .put, "/v1/admin/tenants/\(tenant.tenantID)/limits", token: operatorToken,
                json: ["max_requests_per_minute": 100, "max_burst": 20]
            ).jsonObject()
            #expect(capped["requests_per_minute"] as? Int == 100)
            #expect(capped["burst"] as? Int == 20)

            try await client.send(
                .put, "/v1/admin/tenants/\(UUID())/limits", token: operatorToken,
                json: ["max_requests_per_minute": 100, "max_burst": 20]
            ).expectProblem(404, "not_found")
            try await client.send(
                .put, "/v1/limits", token: tenant.token, json: ["requests_per_minute": 0, "burst": 5]
            ).expectProblem(400, "invalid_request")
            let readOnly = try await client.createKey(token: tenant.token, scopes: ["billing:read"])
            try await client.send(
                .put, "/v1/limits", token: readOnly.token, json: ["requests_per_minute": 10, "burst": 5]
            ).expectProblem(403, "forbidden")
        }
    }
}
