import Prometheus

/// Sign-ins and session refreshes in the application's Prometheus registry:
/// `controlplane_signins_total{method,outcome}` (`password`, `invitation`, `github`; `succeeded`,
/// `refused`, `limited`) and `controlplane_session_refreshes_total{outcome}` (`rotated`, `reused`,
/// `refused`). A reused refresh token is a stolen one as often as not: the alert rules watch it.
package struct SignInMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    package static let methods = ["password", "invitation", "github"]
    package static let outcomes = ["succeeded", "refused", "limited"]
    package static let refreshOutcomes = ["rotated", "reused", "refused"]

    /// Registers every series at zero, so rates and alerts have them from the start.
    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for method in Self.methods {
            for outcome in Self.outcomes { _ = counter(method: method, outcome: outcome) }
        }
        for outcome in Self.refreshOutcomes { _ = refreshCounter(outcome) }
    }

    package func signIn(method: String, outcome: String) {
        counter(method: method, outcome: outcome).increment()
    }

    package func refresh(outcome: String) {
        refreshCounter(outcome).increment()
    }

    private func counter(method: String, outcome: String) -> Counter {
        registry.makeCounter(name: "controlplane_signins_total", labels: [("method", method), ("outcome", outcome)])
    }

    private func refreshCounter(_ outcome: String) -> Counter {
        registry.makeCounter(name: "controlplane_session_refreshes_total", labels: [("outcome", outcome)])
    }
}
