import Foundation
import HummingbirdTesting
import Testing

/// Names that do not resolve (a DNS outage, a typo in a URL): the process neither exits nor traps, every
/// answer comes within a bound, API calls are 503 problems with `Retry-After`, and `/readyz` names what
/// it cannot reach. (`.invalid` never resolves, RFC 6761.) Coming back once names resolve again runs the
/// same path as Postgres coming back (`PostgresPool` dials the name again every 250 ms;
/// PostgresOutageTests), and Redis is dialled by name on every new connection.
@Suite(.timeLimit(.minutes(3))) struct DNSFailureTests {
    @Test func namesThatDoNotResolveAnswer503AndNotReady() async throws {
        try await TestEnvironment.withApp(
            .live,
            configure: {
                let database = $0.database.url.replacingOccurrences(
                    of: #"@[^/]+/"#, with: "@postgres.invalid:5432/", options: .regularExpression)
                $0.database.url = database
                $0.database.listenerURL = database
                $0.redis.url = "redis://redis.invalid:6379"
                $0.database.reconnectInterval = .milliseconds(250)
                $0.database.probeTimeout = .seconds(1)
            }
        ) { client in
            for _ in 0..<3 {
                #expect(try await client.send(.get, "/healthz").status == .ok)
                let asked = ContinuousClock.now
                let ready = try await client.send(.get, "/readyz")
                try ready.expectProblem(503, "unavailable")
                let detail = try ready.jsonObject()["detail"] as? String ?? ""
                #expect(detail.contains("postgres") && detail.contains("redis"), "readyz: \(detail)")
                let tenant = try await client.send(.get, "/v1/tenant", token: "cp_test_not_a_key")
                try tenant.expectProblem(503, "unavailable")
                #expect(tenant.headers[.retryAfter] != nil)
                #expect(ContinuousClock.now - asked < .seconds(10), "answers took \(ContinuousClock.now - asked)")
            }
        }
    }
}
