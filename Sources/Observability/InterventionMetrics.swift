import Interventions
import Prometheus

/// The intervention scheduler's steps (`controlplane_intervention_steps_total{outcome}`: `created`,
/// `escalated`, `closed`, `retrying`) and the outcomes reported (`controlplane_intervention_outcomes_total
/// {outcome}`: `accepted`, `dismissed`) in the application's Prometheus registry.
package struct InterventionMetrics: InterventionObserver, InterventionOutcomeObserver {
    package let registry: PrometheusCollectorRegistry
    package static let steps = ["created", "escalated", "closed", "retrying"]
    package static let outcomes = ["accepted", "dismissed"]

    /// Registers every label at zero, so rates exist before the first intervention.
    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for step in Self.steps {
            _ = registry.makeCounter(name: "controlplane_intervention_steps_total", labels: [("outcome", step)])
        }
        for outcome in Self.outcomes {
            _ = registry.makeCounter(name: "controlplane_intervention_outcomes_total", labels: [("outcome", outcome)])
        }
    }

    package func step(_ outcome: String) {
        registry.makeCounter(name: "controlplane_intervention_steps_total", labels: [("outcome", outcome)]).increment()
    }

    package func outcome(_ outcome: String) {
        registry.makeCounter(name: "controlplane_intervention_outcomes_total", labels: [("outcome", outcome)])
            .increment()
    }
}
