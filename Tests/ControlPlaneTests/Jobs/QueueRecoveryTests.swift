import ControlPlane
import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import TestKit
import Testing

/// The tests that need a relay running. A relay sends any committed job that is not on Redis to its own
/// queues, and the test apps share one database while each has its own queue prefix, so two of these
/// at once could send each other's jobs where no worker of theirs looks: they run one at a time (every
/// other test app runs no relay).
@Suite(.serialized, .timeLimit(.minutes(3))) struct QueueRecoveryTests {
    static let messages = RuntimeTests.messages

    /// With Redis unreachable a delivery is still committed and answered 2xx; once Redis is back the relay
    /// puts its jobs on the queue by itself.
    @Test func deliveriesAcceptedWhileRedisIsDownReachTheQueueLater() async throws {
        let (tenant, endpointURL, secret) = try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            return (tenant, endpoint.url, endpoint.secret)
        }
        let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 21))
        let deliveryID = try await TestEnvironment.withApp(configure: { $0.redis.url = "redis://127.0.0.1:1" }) {
            client in
            let response = try await client.deliver(endpointURL, event: "push", body: body, secret: secret)
            #expect(response.status == .accepted)
            let receipt = try response.jsonObject()
            #expect((receipt["job_ids"] as? [String])?.count == 1 && receipt["status"] as? String == "accepted")
            return try #require(receipt["delivery_id"] as? String)
        }
        let prefix = "cp-relay-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withApp(configure: {
            $0.jobs.queuePrefix = prefix
            $0.jobs.relayInterval = .seconds(1)
        }) { client in
            // Some relay (this app's, or another running test's) sends it and notes the delivery enqueued
            // (a worker of another test may even have processed it since).
            let waited = try await waitUntil(timeout: .seconds(20)) {
                let delivery = try await client.send(.get, "/v1/deliveries/\(deliveryID)", token: tenant.token)
                return try delivery.jsonObject()["status"] as? String != "accepted"
            }
            #expect(waited != nil, "the relay did not send the job")
        }
    }

    /// A tenant whose stream holds an entry but who is not marked ready (the mark lost, as a restarted
    /// node loses its last writes) would wait for good: no worker reads a stream nobody marks. The relay
    /// marks it again once its job has been noted as sent for `lostAfter`, and the job runs.
    @Test func aTenantWhoseReadyMarkWasLostIsMarkedAgain() async throws {
        let prefix = "cp-mark-\(UUID().uuidString.prefix(8).lowercased())"
        let configure: @Sendable (inout Configuration) -> Void = { configuration in
            configuration.jobs.queuePrefix = prefix
            configuration.jobs.relayInterval = .seconds(1)
            configuration.jobs.lostAfter = .seconds(2)
        }
        let tenant = try await TestEnvironment.withApp(configure: configure) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 23))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                    == .accepted)
            return tenant
        }
        let redis = try RedisClient(url: try TestEnvironment.configuration.redis.url)
        #expect(try await redis.command(["XLEN", "\(prefix):{t:\(tenant.tenantID)}:jobs"]) == .integer(1))
        #expect(try await redis.command(["ZREM", "\(prefix):ready", tenant.tenantID]) == .integer(1))
        try await TestEnvironment.withApp(worker: true, configure: configure) { client in
            let jobs = try await Runtime.waitForJobs(
                client, tenant, status: "succeeded", count: 1, timeout: .seconds(20))
            #expect(jobs.count == 1 && jobs.allSatisfy { $0["status"] as? String == "succeeded" }, "\(jobs)")
        }
    }

    /// A job that keeps failing goes to the dead letters after its attempts while other tenants' jobs go
    /// through; retrying it through the API runs it again.
    @Test func aPoisonJobIsDeadLetteredWhileTheQueueKeepsMoving() async throws {
        let prefix = "cp-poison-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.jobs.maxAttempts = 3
                $0.jobs.relayInterval = .seconds(1)
                $0.jobs.queuePrefix = prefix
            }
        ) { client in
            let poisoned = try await client.signup()
            // Commitments go to a provider with no credential: every attempt fails and is retried.
            let policy: [String: Any] = [
                "routes": [
                    "default": [Gateway.candidate("mock", "mock-1")],
                    "commitments": [Gateway.candidate("openai", "gpt-4o-mini")],
                ],
                "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 100_000,
                "cache": ["enabled": false, "ttl_seconds": 600],
            ]
            #expect(try await client.send(.put, "/v1/policy", token: poisoned.token, json: policy).status == .ok)
            let healthy = try await client.signup()
            let bad = try await client.createEndpoint(token: poisoned.token, pipelines: ["commitments"])
            let good = try await client.createEndpoint(token: healthy.token, pipelines: ["commitments"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 51))
            #expect(
                try await client.deliver(bad.url, event: "push", body: body, secret: bad.secret).status == .accepted)
            #expect(
                try await client.deliver(good.url, event: "push", body: body, secret: good.secret).status == .accepted)

            let dead = try await Runtime.waitForJobs(client, poisoned, status: "dead", count: 1, timeout: .seconds(60))
            let job = try #require(dead.first)
            if job["status"] as? String != "dead" {
                // What the queue holds, to tell a lost entry from a stuck worker.
                let redis = try RedisClient(url: try TestEnvironment.configuration.redis.url)
                let key = "\(prefix):{t:\(poisoned.tenantID)}:jobs"
                var state: [String] = []
                for command in [
                    ["XLEN", key], ["XPENDING", key, "workers"],
                    ["ZRANGE", "\(prefix):ready", "0", "-1", "WITHSCORES"],
                    ["XINFO", "GROUPS", key],
                ] {
                    state.append("\(command[0]): \((try? await redis.command(command)).map { "\($0)" } ?? "error")")
                }
                Issue.record("queue state: \(state.joined(separator: "; "))")
            }
            #expect(job["status"] as? String == "dead" && job["attempts"] as? Int == 3, "\(job)")
            #expect((job["last_error"] as? String)?.isEmpty == false)
            let fine = try await Runtime.waitForJobs(client, healthy, status: "succeeded", count: 1)
            #expect(fine.first?["status"] as? String == "succeeded")
            let deadLetters = try await client.send(.get, "/v1/jobs?status=dead", token: poisoned.token).jsonObject()
            #expect((deadLetters["items"] as? [[String: Any]])?.count == 1)

            let id = try #require(job["id"] as? String)
            try await client.send(.post, "/v1/jobs/\(id)/retry", token: healthy.token).expectProblem(404, "not_found")
            let retried = try await client.send(.post, "/v1/jobs/\(id)/retry", token: poisoned.token)
            #expect(retried.status == .ok)
            #expect(try retried.jsonObject()["attempts"] as? Int == 0)
            // Fixed: the mock answers now, and the retried job succeeds.
            var fixed = policy
            fixed["routes"] = ["default": [Gateway.candidate("mock", "mock-1")]]
            #expect(try await client.send(.put, "/v1/policy", token: poisoned.token, json: fixed).status == .ok)
            _ = try await Runtime.waitForJobs(client, poisoned, status: "succeeded", count: 1)
            try await client.send(.post, "/v1/jobs/\(id)/retry", token: poisoned.token).expectProblem(409, "conflict")
        }
    }
}
