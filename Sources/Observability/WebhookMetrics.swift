import Prometheus

/// Webhook ingest metrics in the application's Prometheus registry: deliveries by result (`accepted`,
/// `ignored`, `duplicate`, `signature_invalid`, `malformed`, `queue_full`).
package struct WebhookMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    package func delivery(result: String) {
        registry.makeCounter(name: "controlplane_webhook_deliveries_total", labels: [("result", result)]).increment()
    }
}
