import Persistence
import Prometheus

/// Spend-control metrics in the application's Prometheus registry: refusals by tenant (rate limit and
/// budget), tokens by tenant, provider, model and kind (and, as `ai_token_usage_total`, the billed
/// tokens by tenant and pipeline), their cost by tenant, and each tenant's remaining budget.
package struct SpendMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// The model label of each tenant's token counts, bounded per tenant.
    package let models: ModelLabels

    package init(registry: PrometheusCollectorRegistry, models: ModelLabels) {
        self.registry = registry
        self.models = models
    }

    package func rateLimited(_ tenantID: TenantID) {
        registry.makeCounter(name: "controlplane_rate_limited_total", labels: [("tenant", tenantID.description)])
            .increment()
    }

    package func budgetExhausted(_ tenantID: TenantID) {
        registry.makeCounter(name: "controlplane_budget_exhausted_total", labels: [("tenant", tenantID.description)])
            .increment()
    }

    package func tokens(_ count: Int64, tenantID: TenantID, provider: String, model: String, kind: String, cached: Bool)
    {
        guard count > 0 else { return }
        registry.makeCounter(
            name: "controlplane_llm_tokens_total",
            labels: [
                ("tenant", tenantID.description), ("provider", provider),
                ("model", models.label(model, tenant: tenantID)), ("kind", kind),
                ("cached", cached ? "true" : "false"),
            ]
        ).increment(by: Double(count))
        // What the tenant's work used, by pipeline (`chat` for the API's own calls); cached answers are free.
        if !cached {
            registry.makeCounter(
                name: "ai_token_usage_total", labels: [("tenant", tenantID.description), ("pipeline", kind)]
            ).increment(by: Double(count))
        }
    }

    /// What the tenant's billed calls cost, in US dollars (`controlplane_llm_cost_usd_total`).
    package func cost(_ microUSD: Int64, tenantID: TenantID) {
        let counter = registry.makeCounter(
            name: "controlplane_llm_cost_usd_total", labels: [("tenant", tenantID.description)])
        if microUSD > 0 { counter.increment(by: Double(microUSD) / 1_000_000) }
    }

    /// Registers an authenticated tenant's refusal counters at zero, so its refusal rates exist (and
    /// read 0) before its first refusal.
    package func seen(_ tenantID: TenantID) {
        let labels = [("tenant", tenantID.description)]
        _ = registry.makeCounter(name: "controlplane_rate_limited_total", labels: labels)
        _ = registry.makeCounter(name: "controlplane_budget_exhausted_total", labels: labels)
    }

    package func budgetRemaining(_ tokens: Int64, tenantID: TenantID) {
        registry.makeGauge(name: "controlplane_budget_remaining_tokens", labels: [("tenant", tenantID.description)])
            .set(Double(tokens))
    }
}
