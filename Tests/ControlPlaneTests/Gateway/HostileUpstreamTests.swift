import ControlPlane
import Foundation
import HummingbirdTesting
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A tenant's upstream that trickles, floods, stalls after its headers or never ends its body: every
/// call still ends by its `timeout_ms` (connect, headers and the whole body), a body past its cap is cut,
/// a stream is read only as fast as its client reads, and whatever ends early is charged and released.
@Suite(.timeLimit(.minutes(3))) struct HostileUpstreamTests {
    static func configure(_ port: Int) -> @Sendable (inout Configuration) -> Void {
        Gateway.configure(port: port) { $0.gateway.providerAttempts = 1 }
    }

    /// Runs `body` with a tenant whose policy sends every call to its own hostile upstream: an `openai`
    /// candidate of `model` for each of `timeoutsMs`.
    static func withHostileTenant(
        _ model: String, timeoutsMs: [Int], setup: TestingSetup = .router,
        _ body: @Sendable (HostileUpstream, any TestClientProtocol, SignedUpTenant) async throws -> Void
    ) async throws {
        let upstream = HostileUpstream()
        try await upstream.run { port in
            try await TestEnvironment.withApp(setup, configure: Self.configure(port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant, candidates: timeoutsMs.map { Gateway.candidate("openai", model, timeoutMs: $0) })
                try await body(upstream, client, tenant)
            }
        }
    }

    @Test(arguments: ["trickle", "stall", "endless"])
    func aWholeAnswerThatNeverEndsIsCutAtTheTimeout(model: String) async throws {
        try await Self.withHostileTenant(model, timeoutsMs: [1500]) { upstream, client, tenant in
            let started = ContinuousClock.now
            let answer = try await Gateway.chat(client, tenant)
            let took = ContinuousClock.now - started
            #expect(answer.status.code >= 500 && answer.status.code < 600, "\(String(buffer: answer.body))")
            #expect(took < .seconds(6), "\(model): answered after \(took)")
            try await Gateway.expectSettled(client, tenant)
        }
    }

    @Test func aWholeAnswerPastTheBodyCapIsRefusedAtOnce() async throws {
        try await Self.withHostileTenant("flood", timeoutsMs: [60_000]) { upstream, client, tenant in
            let started = ContinuousClock.now
            let answer = try await Gateway.chat(client, tenant)
            #expect(answer.status.code >= 500 && answer.status.code < 600, "\(String(buffer: answer.body))")
            #expect(ContinuousClock.now - started < .seconds(20))
            // The cap is 8 MiB: the call is given up there and its connection closed; the kernel took
            // what the sockets' buffers hold beyond it (measured: 13-14 MB in all).
            _ = try await waitUntil(timeout: .seconds(10)) { upstream.snapshot.open == 0 }
            #expect(upstream.snapshot.open == 0, "the upstream call is still open")
            #expect(upstream.snapshot.bytes < 32 << 20, "\(upstream.snapshot.bytes) bytes written")
        }
    }

    @Test(arguments: ["trickle", "stall"])
    func aStreamThatStallsEndsAtTheTimeoutAndIsCharged(model: String) async throws {
        try await Self.withHostileTenant(model, timeoutsMs: [1500]) { upstream, client, tenant in
            let started = ContinuousClock.now
            let answer = try await Gateway.chat(client, tenant, stream: true)
            let took = ContinuousClock.now - started
            #expect(answer.status == .ok)
            let events = Gateway.events(answer)
            #expect(events.contains { $0.hasPrefix("{\"error\"") }, "\(events)")
            #expect(events.last == "[DONE]")
            #expect(took < .seconds(8), "\(model): the stream ended after \(took)")
            _ = try await waitUntil(timeout: .seconds(5)) { try await Gateway.ledger(tenant.tenantID).billed > 0 }
            #expect(try await Gateway.ledger(tenant.tenantID).billed > 0, "a stream cut short is charged")
            #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
        }
    }

    /// A client that asks for a stream and then reads nothing: the gateway reads the flooding upstream
    /// only as far as its bounded buffers (and the sockets') hold, and when the client leaves the
    /// upstream call ends, the stream is charged and the reservation released.
    @Test func aClientThatStopsReadingHoldsTheFloodBack() async throws {
        try await Self.withHostileTenant("flood", timeoutsMs: [60_000], setup: .live) { upstream, client, tenant in
            let serverPort = try #require(client.port)
            let body = #"{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            let request =
                "POST /v1/llm/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(tenant.token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let (_, probe) = try await EventLoopProbe.watching {
                try await RawHTTP.onOwnThread {
                    let descriptor = try RawHTTP.connected(
                        port: serverPort, receiveTimeout: timeval(tv_sec: 10, tv_usec: 0))
                    defer { close(descriptor) }
                    // A small receive buffer, so the client's side holds little of the flood.
                    var size: Int32 = 16_384
                    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
                    let bytes = Array(request.utf8)
                    guard send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
                        throw RawHTTP.Failure(step: "send")
                    }
                    var buffer = [UInt8](repeating: 0, count: 1024)
                    guard recv(descriptor, &buffer, buffer.count, 0) > 0 else {
                        throw RawHTTP.Failure(step: "recv")
                    }
                    // Reads nothing more for six seconds, then leaves.
                    Thread.sleep(forTimeInterval: 6)
                }
                // The client has left: the upstream call ends, the stream is charged and released.
                _ = try await waitUntil(timeout: .seconds(10)) { upstream.snapshot.open == 0 }
            }
            #expect(upstream.snapshot.open == 0, "the upstream call is still open; \(probe)")
            // What the gateway took from the provider: without backpressure it reads the flood as fast as
            // it can parse it (over 100 MB in six seconds); with it, about what its buffers and the
            // client's socket hold (measured: 4.2 MB).
            @Sendable func passedOn() async throws -> Int {
                let metrics = String(buffer: try await client.send(.get, "/metrics").body)
                let line = metrics.split(separator: "\n").first {
                    $0.hasPrefix("controlplane_gateway_stream_text_bytes_total{provider=\"openai\"}")
                }
                return Int(Double(line?.split(separator: " ").last ?? "") ?? -1)
            }
            _ = try await waitUntil(timeout: .seconds(10)) { try await passedOn() > 0 }
            let passed = try await passedOn()
            #expect(passed > 0 && passed < 16 << 20, "the gateway passed \(passed) bytes on")
            _ = try await waitUntil(timeout: .seconds(10)) {
                let balanced = try await Gateway.discrepancies(tenant.tenantID) == 0
                let billed = try await Gateway.ledger(tenant.tenantID).billed
                return balanced && billed > 0
            }
            #expect(try await Gateway.ledger(tenant.tenantID).billed > 0)
            let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
            #expect((budget["current"] as? [String: Any])?["reserved"] as? Int == 0)
        }
    }

    /// A tenant whose upstream stalls has at most `CP_GATEWAY_CALLS_PER_TENANT` calls in flight; more
    /// are refused at once with 429, and another tenant's calls are answered meanwhile.
    @Test func aTenantsCallsInFlightAreBounded() async throws {
        let upstream = HostileUpstream()
        try await upstream.run { port in
            try await TestEnvironment.withApp(
                configure: Gateway.configure(port: port) {
                    $0.gateway.providerAttempts = 1
                    $0.gateway.callsPerTenant = 2
                }
            ) { client in
                let hostile = try await client.signup()
                let neighbour = try await client.signup()
                try await Gateway.setUp(
                    client, hostile, candidates: [Gateway.candidate("openai", "stall", timeoutMs: 4000)])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 { group.addTask { _ = try await Gateway.chat(client, hostile) } }
                    _ = try await waitUntil(timeout: .seconds(10)) { upstream.snapshot.open == 2 }
                    let refused = try await Gateway.chat(client, hostile)
                    try refused.expectProblem(429, "rate_limited")
                    #expect(refused.headers[.retryAfter] != nil)
                    #expect(try await Gateway.chat(client, neighbour).status == .ok)
                    try await group.waitForAll()
                }
                // The two calls ended at their deadline: the tenant may call again.
                #expect(try await Gateway.chat(client, hostile).status.code != 429)
            }
        }
    }

    /// Tenant A's pushes all go to its own upstream, which sends headers and then trickles; tenant B's
    /// single push on `mock` is analysed meanwhile: A's jobs hold at most their share of the slots, and
    /// each of their calls ends at its timeout.
    @Test func aTricklingUpstreamDoesNotHoldUpAnotherTenantsPush() async throws {
        let upstream = HostileUpstream()
        try await upstream.run { port in
            try await TestEnvironment.withApp(worker: true, configure: Self.configure(port)) { client in
                let hostile = try await client.signup()
                let neighbour = try await client.signup()
                try await Gateway.setUp(
                    client, hostile, candidates: [Gateway.candidate("openai", "trickle", timeoutMs: 3000)])
                let endpoint = try await client.createEndpoint(token: hostile.token)
                for seed in 0..<12 {
                    let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 2, seed: 700 + seed))
                    let answer = try await client.deliver(
                        endpoint.url, event: "push", body: body, secret: endpoint.secret)
                    #expect(answer.status == .accepted)
                }
                // A's jobs are holding slots before B's push arrives.
                _ = try await waitUntil(timeout: .seconds(10)) { upstream.snapshot.open > 0 }

                let theirs = try await client.createEndpoint(token: neighbour.token, pipelines: ["commitments"])
                let started = ContinuousClock.now
                let answer = try await client.deliver(
                    theirs.url, event: "push",
                    body: try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 790)),
                    secret: theirs.secret)
                #expect(answer.status == .accepted)
                let jobs = try await Runtime.waitForJobs(
                    client, neighbour, status: "succeeded", count: 1, timeout: .seconds(20))
                let took = ContinuousClock.now - started
                #expect(jobs.first?["status"] as? String == "succeeded", "\(jobs)")
                #expect(took < .seconds(10), "B's push waited \(took)")
                #expect(upstream.snapshot.open <= 2, "A holds more than its share of the slots")
            }
        }
    }
}

extension HostileUpstreamTests {
    /// A reservation outlives the longest call its policy allows (two candidates of 600 s each here):
    /// the sweeper never releases it while the call is still running (`CP_RESERVATION_TTL_SECONDS` is
    /// 900 s).
    @Test func aReservationOutlivesTheLongestCallItsPolicyAllows() async throws {
        try await Self.withHostileTenant("stall", timeoutsMs: [600_000, 600_000]) { upstream, client, tenant in
            let call = Task { try await Gateway.chat(client, tenant) }
            defer { call.cancel() }
            _ = try await waitUntil(timeout: .seconds(10)) { upstream.snapshot.open == 1 }
            let lives = try await TestEnvironment.withTenantTransaction(tenant.tenantID) { transaction in
                var seconds: [Double] = []
                let rows = try await transaction.query(
                    "SELECT extract(epoch FROM expires_at - now())::float8 FROM budget_reservations")
                for try await value in rows.decode(Double.self) { seconds.append(value) }
                return seconds
            }
            // Two candidates of one attempt (no pause between attempts) of 600 s each, plus ten seconds.
            #expect(lives.count == 1 && (lives.first ?? 0) > 1_200, "\(lives)")
        }
    }
}
