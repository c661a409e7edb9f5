import BlockingWork
import Foundation
import HummingbirdTesting
import TestKit
import Testing

extension QueueRecoveryTests {
    /// Redis is killed (losing everything) and started again while deliveries keep arriving: every
    /// delivery is answered 2xx (they need only Postgres), so are reads, `/readyz` says Redis is away
    /// (503 with `Retry-After`) while it is, the same process is ready again within 5 s of its return,
    /// and every job made is processed once Redis is back, without any help.
    @Test func redisKilledAndRestartedDuringIngestLosesNothing() async throws {
        let port = unusedLoopbackPort()
        let redis = Shared(try Self.startRedis(port: port))
        defer { redis.withLock { kill($0.processIdentifier, SIGKILL) } }
        try await Pause.for(.milliseconds(300))
        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.redis.url = "redis://127.0.0.1:\(port)"
                $0.jobs.relayInterval = .seconds(1)
                $0.jobs.rebuildsAfterLoss = true
            }
        ) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            var accepted = 0
            for round in 0..<30 {
                if round == 10 {
                    let killed = redis.withLock { $0 }
                    kill(killed.processIdentifier, SIGKILL)
                    await ChildProcess.exit(of: killed)
                    let ready = try await client.send(.get, "/readyz")
                    try ready.expectProblem(503, "unavailable")
                    #expect(ready.headers[.retryAfter] != nil)
                    #expect(String(buffer: ready.body).contains("redis"))
                    #expect(try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok)
                }
                if round == 20 {
                    let started = try Self.startRedis(port: port)
                    redis.withLock { $0 = started }
                    let back = try await waitUntil(timeout: .seconds(5)) {
                        try await client.send(.get, "/readyz").status == .ok
                    }
                    #expect(back != nil, "not ready 5 s after Redis was back")
                }
                let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 900 + round))
                let response = try await client.deliver(
                    endpoint.url, event: "push", body: body, secret: endpoint.secret)
                #expect(response.status == .accepted, "round \(round): \(response.status)")
                if response.status == .accepted { accepted += 1 }
            }
            #expect(accepted == 30)
            let jobs = try await Runtime.waitForJobs(
                client, tenant, status: "succeeded", count: 30, timeout: .seconds(90))
            #expect(jobs.filter { $0["status"] as? String == "succeeded" }.count == 30)
        }
    }

    static func startRedis(port: Int) throws -> Process {
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        redis.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ]
        redis.standardOutput = FileHandle.nullDevice
        try redis.run()
        return redis
    }
}
