import Foundation
import HummingbirdTesting
import TestKit
import Testing

/// `GET /v1/admin/health`: each component's state for operators, nothing for anyone else.
@Suite(.timeLimit(.minutes(3))) struct AdminHealthTests {
    @Test func operatorsSeeEachComponentsState() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 4242))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                    == .accepted)

            // The listener hears its first heartbeat within moments of the start.
            let heard = try await waitUntil(timeout: .seconds(10)) {
                let health = try await client.send(.get, "/v1/admin/health", token: operatorToken).jsonObject()
                return (health["invalidation_listener"] as? [String: Any])?["status"] as? String == "up"
            }
            #expect(heard != nil, "the listener never reported up")
            let health = try await client.send(.get, "/v1/admin/health", token: operatorToken).jsonObject()
            #expect(["ok", "degraded"].contains(health["status"] as? String ?? ""))
            for component in ["postgres", "redis"] {
                let state = try #require(health[component] as? [String: Any])
                #expect(state["status"] as? String == "up", "\(component): \(state)")
                #expect((state["latency_ms"] as? Double ?? -1) >= 0)
            }
            let listener = try #require(health["invalidation_listener"] as? [String: Any])
            #expect((listener["heartbeat_age_ms"] as? Double ?? 10_000) < 5_000)
            // No worker runs here: the push's three jobs wait, counted across tenants.
            let queues = try #require(health["queues"] as? [String: Any])
            #expect(queues["status"] as? String == "up")
            #expect((queues["pending_jobs"] as? Int ?? 0) >= 3)
            #expect((queues["oldest_pending_age_seconds"] as? Double ?? -1) >= 0)
            let relay = try #require(health["relay"] as? [String: Any])
            #expect((relay["unsent_jobs"] as? Int ?? -1) >= 0)
            #expect(health["providers"] is [Any])
            let executor = try #require(health["executor"] as? [String: Any])
            #expect(["up", "late"].contains(executor["status"] as? String ?? ""))
            #expect((executor["lag_ms"] as? Double ?? -1) >= 0)

            try await client.send(.get, "/v1/admin/health", token: tenant.token).expectProblem(403, "forbidden")
            try await client.send(.get, "/v1/admin/health").expectProblem(401, "unauthenticated")
        }
    }
}
