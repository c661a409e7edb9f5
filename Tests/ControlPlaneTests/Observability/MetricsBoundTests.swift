import Foundation
import HummingbirdTesting
import Testing

/// Metric labels a tenant chooses (model names) cannot grow `/metrics` without bound, nor break its
/// format: each tenant has at most `CP_METRICS_MODELS_PER_TENANT` model labels, later ones count as
/// `other`, and a name with quotes and backslashes is escaped.
@Suite(.timeLimit(.minutes(3))) struct MetricsBoundTests {
    @Test func aTenantsModelNamesAreBoundedAndEscaped() async throws {
        try await TestEnvironment.withApp(configure: { $0.http.metricsModelsPerTenant = 5 }) { client in
            let tenant = try await client.signup()
            let neighbour = try await client.signup()
            let hostile = #"q"}1\n{x="\"#
            for model in [hostile] + (0..<12).map({ "m\($0)" }) {
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("mock", model)])
                #expect(try await Gateway.chat(client, tenant).status == .ok)
            }
            #expect(try await Gateway.chat(client, neighbour).status == .ok)

            let metrics = String(buffer: try await client.send(.get, "/metrics").body)
            let modelLabel = try Regex(#"model="((?:[^"\\]|\\.)*)""#, as: (Substring, Substring).self)
            func models(of tenant: SignedUpTenant) -> Set<String> {
                let lines = metrics.split(separator: "\n").filter {
                    $0.hasPrefix("controlplane_llm_tokens_total{") && $0.contains(#"tenant="\#(tenant.tenantID)""#)
                }
                return Set(lines.compactMap { $0.firstMatch(of: modelLabel).map { String($0.output.1) } })
            }
            let escaped = #"q\"}1\\n{x=\"\\"#
            #expect(models(of: tenant) == [escaped, "m0", "m1", "m2", "m3", "other"], "\(models(of: tenant))")
            #expect(models(of: neighbour) == ["mock-1"], "another tenant's labels are its own")
            // Every sample line is a name, well-formed labels and a value: nothing a model name says ends
            // a label early or starts a line.
            let sample = try Regex(
                #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? \S+$"#)
            for line in metrics.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(line.wholeMatch(of: sample) != nil, "a malformed metrics line: \(line)")
            }
        }
    }
}
