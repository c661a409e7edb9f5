import BlockingWork
import Foundation
import Glibc
import HTTPTypes
import HummingbirdTesting
import RedisClient
import Testing

/// The policy picks who answers: fallback in order on 429, 5xx and timeouts, never past a 401, around
/// an open circuit, to cheaper candidates under budget pressure; what answered is said in headers, and
/// every token (reasoning and thinking included) is billed.
@Suite(.timeLimit(.minutes(3))) struct GatewayRoutingTests {
    static let provider = HTTPField.Name("X-ControlPlane-Provider")!
    static let model = HTTPField.Name("X-ControlPlane-Model")!
    static let cache = HTTPField.Name("X-ControlPlane-Cache")!

    @Test func fallbackFollowsThePolicyOrderOn429And5xxAndTimeouts() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant,
                    candidates: [
                        Gateway.candidate("openai", "limited"), Gateway.candidate("gemini", "broken"),
                        Gateway.candidate("groq", "slow", timeoutMs: 500), Gateway.candidate("anthropic", "ok"),
                    ])
                let answer = try await Gateway.chat(client, tenant)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                #expect(answer.headers[Self.provider] == "anthropic")
                #expect(answer.headers[Self.model] == "ok")
                let counts = fake.snapshot.byModel
                #expect(counts["limited"] == 2, "429 is retried once (after Retry-After), then the next")
                #expect(counts["broken"] == 2, "500 is retried once, then the next")
                #expect(counts["slow"] == 2, "a timeout is retried once, then the next")
                #expect(counts["ok"] == 1)
                let body = try answer.jsonObject()
                #expect((body["usage"] as? [String: Any])?["total_tokens"] as? Int == 1_000)
                #expect(try await Gateway.ledger(tenant.tenantID).billed == 1_000)
                #expect(fake.snapshot.requestIDs.contains(answer.headers[HTTPField.Name("X-Request-Id")!] ?? "-"))
                let metrics = String(buffer: try await client.send(.get, "/metrics").body)
                #expect(
                    metrics.contains("controlplane_provider_errors_total{provider=\"openai\",kind=\"rate_limited\"}"))
                #expect(metrics.contains("controlplane_provider_latency_seconds"))
                #expect(metrics.contains("controlplane_llm_tokens_total{tenant=\"\(tenant.tenantID)\""))
                #expect(metrics.contains("controlplane_budget_remaining_tokens{tenant=\"\(tenant.tenantID)\"}"))
            }
        }
    }

    @Test func a401IsNotRetriedNorFallenBackFrom() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant,
                    candidates: [Gateway.candidate("openai", "denied"), Gateway.candidate("gemini", "ok")])
                let answer = try await Gateway.chat(client, tenant)
                try answer.expectProblem(503, "unavailable")
                #expect(fake.snapshot.byModel["denied"] == 1)
                #expect(fake.snapshot.byModel["ok"] == nil)
                #expect(try await Gateway.ledger(tenant.tenantID).billed == 0)
                #expect(try await Gateway.discrepancies(tenant.tenantID) == 0, "the reservation was released")
            }
        }
    }

    @Test func theHourlyCapRefusesCallsPastItWithoutCallingAProvider() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                let other = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")], hourly: 2)
                try await Gateway.setUp(client, other, candidates: [Gateway.candidate("openai", "ok")], hourly: 2)
                #expect(try await Gateway.chat(client, tenant).status == .ok)
                #expect(try await Gateway.chat(client, tenant, stream: true).status == .ok)
                let refused = try await Gateway.chat(client, tenant)
                try refused.expectProblem(429, "rate_limited")
                #expect(String(buffer: refused.body).contains("max_llm_requests_per_hour (2)"))
                let wait = Int(refused.headers[.retryAfter] ?? "") ?? 0
                #expect((3_500...3_600).contains(wait), "Retry-After is the end of the hour window: \(wait)")
                #expect(fake.snapshot.byModel["ok"] == 2, "the refused call reached no provider")
                #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
                #expect(try await Gateway.chat(client, other).status == .ok, "another tenant has its own hour")
            }
        }
    }

    @Test func theCircuitBreakerOpensAndCloses() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(
                configure: Gateway.configure(port: port) {
                    $0.gateway.breakerThreshold = 2
                    $0.gateway.breakerCooldown = .seconds(8)
                    $0.gateway.providerAttempts = 1
                }
            ) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant,
                    candidates: [Gateway.candidate("openai", "broken"), Gateway.candidate("gemini", "ok")])
                for _ in 0..<4 {
                    let answer = try await Gateway.chat(client, tenant)
                    #expect(answer.headers[Self.provider] == "gemini")
                }
                #expect(fake.snapshot.byModel["broken"] == 2, "after two faults the circuit is open")
                try await Pause.for(.milliseconds(8_300))
                _ = try await Gateway.chat(client, tenant)
                #expect(fake.snapshot.byModel["broken"] == 3, "after the cooldown one probe goes through")
                _ = try await Gateway.chat(client, tenant)
                #expect(fake.snapshot.byModel["broken"] == 3, "the failed probe opened it again")
            }
        }
    }

    /// Tenant A's own choice (a `timeout_ms` its model cannot meet) opens A's breaker for the operator's
    /// OpenAI endpoint; tenant B's calls to the same endpoint still go out, and the operator's health
    /// does not call the endpoint open for one tenant.
    @Test func oneTenantsTimeoutsOpenOnlyItsOwnBreaker() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(
                configure: Gateway.configure(port: port) {
                    $0.gateway.breakerThreshold = 2
                    $0.gateway.breakerCooldown = .seconds(60)
                    $0.gateway.providerAttempts = 1
                }
            ) { client in
                let hasty = try await client.signup()
                let patient = try await client.signup()
                try await Gateway.setUp(
                    client, hasty,
                    candidates: [
                        Gateway.candidate("openai", "slow", timeoutMs: 100), Gateway.candidate("gemini", "ok"),
                    ])
                try await Gateway.setUp(client, patient, candidates: [Gateway.candidate("openai", "ok")])
                for _ in 0..<3 {
                    #expect(try await Gateway.chat(client, hasty).headers[Self.provider] == "gemini")
                }
                #expect(fake.snapshot.byModel["slow"] == 2, "after two timeouts A's circuit is open")
                let answer = try await Gateway.chat(client, patient)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                #expect(answer.headers[Self.provider] == "openai")
                let operatorToken = try await OperatorTests.operatorToken()
                let health = try await client.send(.get, "/v1/admin/health", token: operatorToken).jsonObject()
                let openai = (health["providers"] as? [[String: Any]] ?? []).first {
                    $0["provider"] as? String == "openai"
                }
                #expect(openai?["breaker"] as? String == "closed", "\(health)")
                #expect(openai?["open_tenants"] as? Int == 1, "\(health)")
            }
        }
    }

    @Test(arguments: ["openai", "gemini"])
    func reasoningAndThinkingTokensAreBilled(provider: String) async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate(provider, "thinker")])
                let answer = try await Gateway.chat(client, tenant).jsonObject()
                let usage = try #require(answer["usage"] as? [String: Any])
                #expect(usage["total_tokens"] as? Int == 1_250)
                #expect((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 250)
                let ledger = try await Gateway.ledger(tenant.tenantID)
                #expect(ledger.billed == 1_250)
                #expect(ledger.reasoning == 250)
            }
        }
    }

    @Test func cacheHitsAreFreeAndMarked() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")], cache: true)
                let first = try await Gateway.chat(client, tenant)
                #expect(first.headers[Self.cache] == "miss")
                let second = try await Gateway.chat(client, tenant)
                #expect(second.headers[Self.cache] == "hit")
                #expect(try second.jsonObject()["choices"] != nil)
                #expect(fake.snapshot.calls == 1)
                let ledger = try await Gateway.ledger(tenant.tenantID)
                #expect(ledger.billed == 1_000)
                #expect(ledger.cached == 1)
                let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
                #expect((budget["current"] as? [String: Any])?["used"] as? Int == 1_000)
            }
        }
    }

    /// One tenant's unique prompts cannot fill the Redis the queues live in: its cached answers stay
    /// within `CP_CACHE_BYTES_PER_TENANT` (the ones nearest expiry go first) and leave another tenant's be.
    @Test func aTenantsCacheStaysWithinItsBytes() async throws {
        try await TestEnvironment.withApp(configure: { $0.gateway.cacheBytesPerTenant = 2048 }) { client in
            let tenant = try await client.signup()
            let neighbour = try await client.signup()
            for signedUp in [tenant, neighbour] {
                try await Gateway.setUp(
                    client, signedUp, candidates: [Gateway.candidate("mock", "mock-1")], cache: true)
            }
            @Sendable func ask(_ who: SignedUpTenant, _ prompt: String) async throws -> String? {
                let body: [String: Any] = ["model": "auto", "messages": [["role": "user", "content": prompt]]]
                let answer = try await client.send(.post, "/v1/llm/chat/completions", token: who.token, json: body)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                return answer.headers[Self.cache]
            }
            #expect(try await ask(neighbour, "the neighbour's question") == "miss")
            for index in 0..<40 { #expect(try await ask(tenant, "question \(index) \(UUID())") == "miss") }
            let last = "the last question"
            _ = try await ask(tenant, last)
            #expect(try await ask(tenant, last) == "hit", "the newest answer is kept")
            #expect(try await ask(neighbour, "the neighbour's question") == "hit", "another tenant's cache is its own")

            let redis = try RedisClient(url: try TestEnvironment.configuration.redis.url)
            let bytes = try await redis.command(["GET", "cp:{\(tenant.tenantID)}:llm-cache:bytes"]).string.flatMap(
                Int.init)
            let entries = try await redis.command(["HLEN", "cp:{\(tenant.tenantID)}:llm-cache"])
            let stored = try await redis.command(["HVALS", "cp:{\(tenant.tenantID)}:llm-cache"])
            guard case .integer(let count) = entries, case .array(let values) = stored else {
                Issue.record("unexpected replies \(entries) \(stored)")
                return
            }
            let measured = values.reduce(0) { $0 + ($1.string?.utf8.count ?? 0) + 64 }
            #expect(bytes == measured, "the size count matches what is stored")
            #expect((bytes ?? .max) <= 2048 && count > 1 && count < 40, "\(count) entries, \(bytes ?? -1) bytes")
            for key in ["llm-cache", "llm-cache:expiry", "llm-cache:bytes"] {
                let ttl = try await redis.command(["PTTL", "cp:{\(tenant.tenantID)}:\(key)"])
                #expect(ttl != .integer(-1) && ttl != .integer(-2), "\(key) expires (volatile-ttl may evict it)")
            }
        }
    }

    @Test func degradeSwitchesToThePressureCandidates() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                let cheap = [Gateway.candidate("gemini", "ok", maxTokens: 500)]
                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate("openai", "ok")], tokenLimit: 2_600,
                    onExhausted: "degrade",
                    pressure: ["threshold_percent": 50, "routes": ["chat": cheap, "default": cheap]])
                #expect(try await Gateway.chat(client, tenant).headers[Self.provider] == "openai")
                // 1,000 of 2,600 used: below the threshold.
                #expect(try await Gateway.chat(client, tenant).headers[Self.provider] == "openai")
                // 2,000 used: above it, the cheaper candidates answer.
                let pressed = try await Gateway.chat(client, tenant)
                #expect(pressed.status == .ok)
                #expect(pressed.headers[Self.provider] == "gemini")
            }
        }
    }

    /// A replica keeps a tenant's policy and credentials between calls; a change to either takes effect
    /// on the very next call (the one-statement begin checks both and reads them again when stale).
    @Test func policyAndCredentialChangesTakeEffectOnTheNextCall() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "first")])
                for _ in 0..<2 { #expect(try await Gateway.chat(client, tenant).headers[Self.model] == "first") }
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "second")])
                #expect(try await Gateway.chat(client, tenant).headers[Self.model] == "second")
                #expect(try await Gateway.chat(client, tenant).headers[Self.model] == "second")

                for key in ["sk-tenant-1", "sk-tenant-2"] {
                    let stored = try await client.send(
                        .put, "/v1/providers/openai/credentials", token: tenant.token, json: ["api_key": key])
                    #expect(stored.status == .ok)
                    #expect(try await Gateway.chat(client, tenant).status == .ok)
                    #expect(fake.snapshot.authorizations.last == "Bearer \(key)")
                }
                #expect(try await Gateway.beginOutcomeForACurrentPlan(tenant.tenantID) == "granted")
                let removed = try await client.send(.delete, "/v1/providers/openai/credentials", token: tenant.token)
                #expect(removed.status == .noContent)
                #expect(try await Gateway.chat(client, tenant).status == .ok)
                #expect(fake.snapshot.authorizations.last == "Bearer sk-test", "back to the operator's default")

                // The hourly cap of a newly set policy holds at once too.
                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate("openai", "second")], hourly: 1)
                try await Gateway.chat(client, tenant).expectProblem(429, "rate_limited")
                #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
            }
        }
    }

    @Test func aStreamCutShortFailsTheStreamAndReleasesTheReservation() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "cut")])
                let answer = try await Gateway.chat(client, tenant, stream: true)
                #expect(answer.status == .ok)
                let events = Gateway.events(answer)
                #expect(events.contains { $0.hasPrefix("{\"error\"") })
                #expect(events.last == "[DONE]")
                try await Pause.for(.milliseconds(200))
                try await Gateway.expectSettled(client, tenant)
            }
        }
    }

    @Test func modelsAreWhatThePolicyAllows() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                let standard = try await client.send(.get, "/v1/llm/models", token: tenant.token).jsonObject()
                #expect((standard["data"] as? [[String: Any]])?.map { $0["id"] as? String } == ["mock/mock-1"])
                let mock = try await Gateway.chat(client, tenant)
                #expect(mock.status == .ok)
                #expect(mock.headers[Self.provider] == "mock")

                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate("openai", "ok"), Gateway.candidate("gemini", "ok")])
                let models = try await client.send(.get, "/v1/llm/models", token: tenant.token).jsonObject()
                #expect(
                    (models["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
                        "openai/ok", "gemini/ok",
                    ])
                let chosen = try await Gateway.chat(client, tenant, model: "gemini/ok")
                #expect(chosen.headers[Self.provider] == "gemini")
                try await Gateway.chat(client, tenant, model: "openai/gpt-5").expectProblem(404, "not_found")

                let current = try await client.send(.get, "/v1/policy", token: tenant.token).jsonObject()
                #expect(current["version"] as? Int == 1)
                let original = try await client.send(.get, "/v1/policy?version=0", token: tenant.token).jsonObject()
                #expect((original["policy"] as? [String: Any])?["max_tokens_per_request"] as? Int == 4096)
                try await client.send(.get, "/v1/policy?version=9", token: tenant.token).expectProblem(404, "not_found")
                try await client.send(
                    .put, "/v1/policy", token: tenant.token,
                    json: [
                        "routes": ["chat": [Gateway.candidate("openai", "ok")]], "max_tokens_per_request": 100,
                        "max_llm_requests_per_hour": 10, "cache": ["enabled": false, "ttl_seconds": 60],
                    ]
                ).expectProblem(400, "invalid_request")
            }
        }
    }

    @Test func customBaseURLsCannotReachThePlatformsOwnNetwork() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for url in [
                "http://127.0.0.1:8080/v1", "http://10.0.0.1/v1", "http://169.254.169.254/latest", "http://[::1]/v1",
                "http://localhost/v1", "http://[::ffff:127.0.0.1]/v1", "http://0.0.0.0/v1",
                "http://user:pw@example.com/v1",
            ] {
                let answer = try await client.send(
                    .put, "/v1/providers/openai_compatible/credentials", token: tenant.token,
                    json: ["api_key": "k", "base_url": url])
                try answer.expectProblem(400, "invalid_request")
            }
            // A name that resolves to loopback passes the shape check but is refused when the call connects.
            let name = try #require(
                [ProcessInfo.processInfo.hostName, "ip6-localhost", "ip6-loopback"].first(where: resolvesToLoopback),
                "no name of this machine resolves to loopback")
            let stored = try await client.send(
                .put, "/v1/providers/openai_compatible/credentials", token: tenant.token,
                json: ["api_key": "k", "base_url": "http://\(name):9/v1"])
            #expect(stored.status == .ok)
            try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai_compatible", "ok")])
            let refused = try await Gateway.chat(client, tenant)
            try refused.expectProblem(503, "unavailable")
            #expect(String(buffer: refused.body).contains("address_refused"))
            let providers = try await client.send(.get, "/v1/providers", token: tenant.token)
            #expect(!String(buffer: providers.body).contains("\"k\""), "the key is never returned")
        }
    }
}

/// Whether `name` (not a literal address) resolves, and only to loopback addresses.
private func resolvesToLoopback(_ name: String) -> Bool {
    guard !name.isEmpty, name != "localhost", Int(name.prefix(1)) == nil else { return false }
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return false }
    defer { freeaddrinfo(first) }
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    var found = false
    while let entry = cursor {
        if let address = entry.pointee.ai_addr {
            if entry.pointee.ai_family == AF_INET {
                let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                guard UInt32(bigEndian: ip) >> 24 == 127 else { return false }
                found = true
            } else if entry.pointee.ai_family == AF_INET6 {
                let ip = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                let bytes = withUnsafeBytes(of: ip) { Array($0) }
                guard bytes[0..<15].allSatisfy({ $0 == 0 }), bytes[15] == 1 else { return false }
                found = true
            }
        }
        cursor = entry.pointee.ai_next
    }
    return found
}
