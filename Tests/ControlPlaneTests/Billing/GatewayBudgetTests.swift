import ControlPlane
import Foundation
import HummingbirdTesting
import Testing

/// 50 calls released at once against a budget that fits 10 (the fake bills exactly 1,000 tokens a
/// call, and each call reserves exactly that): at most 10 succeed, the ledger equals what the fake
/// billed, the rest get `budget_exhausted`, and every counter reconciles with the ledger.
// Serialized: each case fires 50 calls at once, and seven of them together would starve the tests that
// promise one-second propagation on a 2-core CI machine.
@Suite(.serialized, .timeLimit(.minutes(3))) struct GatewayBudgetTests {
    /// The race fires 50 calls of one tenant at once: above the default bound on a tenant's calls in
    /// flight (32), whose own test is `HostileUpstreamTests.aTenantsCallsInFlightAreBounded`.
    static func configure(_ port: Int) -> @Sendable (inout Configuration) -> Void {
        Gateway.configure(port: port) { $0.gateway.callsPerTenant = 64 }
    }

    static func race(
        _ clients: [any TestClientProtocol], _ tenant: SignedUpTenant, stream: Bool = false
    ) async throws -> [Int: Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                let client = clients[index % clients.count]
                group.addTask {
                    let response = try await Gateway.chat(client, tenant, stream: stream)
                    if response.status.code == 429 { try response.expectProblem(429, "budget_exhausted") }
                    if stream, response.status == .ok {
                        let events = Gateway.events(response)
                        // A stream counts as answered when it ended with its usage and [DONE], no error.
                        guard events.last == "[DONE]", !events.contains(where: { $0.hasPrefix("{\"error\"") }) else {
                            return 599
                        }
                    }
                    return Int(response.status.code)
                }
            }
            var statuses: [Int: Int] = [:]
            for try await status in group { statuses[status, default: 0] += 1 }
            return statuses
        }
    }

    static func check(_ statuses: [Int: Int], fake: FakeProviderServer, tenant: SignedUpTenant) async throws {
        let succeeded = statuses[200, default: 0]
        #expect(succeeded >= 1 && succeeded <= 10, "statuses: \(statuses)")
        #expect(statuses.values.reduce(0, +) == 50)
        #expect(Set(statuses.keys).isSubset(of: [200, 429, 503]), "statuses: \(statuses)")
        let ledger = try await Gateway.ledger(tenant.tenantID)
        #expect(ledger.billed == fake.snapshot.billedTokens, "the ledger holds what the provider billed")
        #expect(ledger.billed <= 10_000, "the budget was never passed")
        #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
    }

    @Test(arguments: ["ok", "jitter", "flaky"])
    func fiftyCallsAgainstABudgetForTen(model: String) async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Self.configure(port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate("openai", model)], tokenLimit: 10_000)
                let statuses = try await Self.race([client], tenant)
                if model != "flaky" { #expect(statuses[200] == 10, "statuses: \(statuses)") }
                try await Self.check(statuses, fake: fake, tenant: tenant)
            }
        }
    }

    @Test(arguments: ["openai", "gemini", "anthropic"])
    func fiftyStreamsAgainstABudgetForTen(provider: String) async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Self.configure(port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate(provider, "ok")], tokenLimit: 10_000)
                let statuses = try await Self.race([client], tenant, stream: true)
                #expect(statuses[200] == 10, "statuses: \(statuses)")
                try await Self.check(statuses, fake: fake, tenant: tenant)
            }
        }
    }

    @Test func twoServerInstancesShareTheBudget() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Self.configure(port)) { first in
                try await TestEnvironment.withApp(configure: Self.configure(port)) { second in
                    let tenant = try await first.signup()
                    try await Gateway.setUp(
                        first, tenant, candidates: [Gateway.candidate("openai", "jitter")], tokenLimit: 10_000)
                    let statuses = try await Self.race([first, second], tenant)
                    #expect(statuses[200] == 10, "statuses: \(statuses)")
                    try await Self.check(statuses, fake: fake, tenant: tenant)
                }
            }
        }
    }

    @Test func anExhaustedBudgetSaysWhichLimitAndWhenItResets() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Self.configure(port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(
                    client, tenant, candidates: [Gateway.candidate("openai", "ok")], tokenLimit: 1_500)
                #expect(try await Gateway.chat(client, tenant).status == .ok)
                let refused = try await Gateway.chat(client, tenant)
                try refused.expectProblem(429, "budget_exhausted")
                let problem = try refused.jsonObject()
                #expect(problem["period"] as? String == "month")
                #expect(problem["token_limit"] as? Int == 1_500)
                #expect(problem["used"] as? Int == 1_000)
                #expect(problem["resets_at"] is String)
                #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 > 0)
                let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
                #expect((budget["current"] as? [String: Any])?["exhausted"] as? Bool == true)
            }
        }
    }
}
