import Edge
import Foundation
import Gateway
import Persistence
import Prometheus
import Providers

/// The gateway's reports as Prometheus metrics: provider latency and errors by provider, tokens by
/// tenant, provider, model and kind, budget refusals and remaining budget by tenant.
package struct GatewayMetrics: GatewayObserver {
    package let spend: SpendMetrics
    package let registry: PrometheusCollectorRegistry

    /// Registers every provider's latency and errors of every kind at zero, so error rates and their
    /// alert have series from the start.
    package init(spend: SpendMetrics, registry: PrometheusCollectorRegistry) {
        self.spend = spend
        self.registry = registry
        for provider in ProviderKind.allCases {
            _ = registry.makeDurationHistogram(
                name: "controlplane_provider_latency_seconds", labels: [("provider", provider.rawValue)],
                buckets: Self.buckets)
            for kind in ProviderError.Kind.allCases {
                _ = registry.makeCounter(
                    name: "controlplane_provider_errors_total",
                    labels: [("provider", provider.rawValue), ("kind", kind.rawValue)])
            }
        }
    }
    private static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    package func attempt(provider: ProviderKind, model: String, duration: Duration, error: ProviderError?) {
        registry.makeDurationHistogram(
            name: "controlplane_provider_latency_seconds", labels: [("provider", provider.rawValue)],
            buckets: Self.buckets
        ).record(duration)
        if let error {
            registry.makeCounter(
                name: "controlplane_provider_errors_total",
                labels: [("provider", provider.rawValue), ("kind", error.kind.rawValue)]
            ).increment()
        }
    }

    package func charged(
        tenantID: TenantID, usage: TokenUsage, provider: ProviderKind, model: String, kind: TaskKind, cached: Bool,
        costMicroUSD: Int64
    ) {
        spend.tokens(
            usage.totalTokens, tenantID: tenantID, provider: provider.rawValue, model: model, kind: kind.rawValue,
            cached: cached)
        spend.cost(costMicroUSD, tenantID: tenantID)
    }

    package func streamed(provider: ProviderKind, bytes: Int) {
        registry.makeCounter(
            name: "controlplane_gateway_stream_text_bytes_total", labels: [("provider", provider.rawValue)]
        ).increment(by: Int64(bytes))
    }

    package func budgetExhausted(tenantID: TenantID) {
        spend.budgetExhausted(tenantID)
    }

    package func budgetRemaining(tenantID: TenantID, tokens: Int64) {
        spend.budgetRemaining(tokens, tenantID: tenantID)
    }
}
