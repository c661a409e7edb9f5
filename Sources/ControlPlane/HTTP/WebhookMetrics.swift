import Prometheus

/// Webhook ingest metrics in the application's Prometheus registry: deliveries by result (`accepted`,
/// `ignored`, `duplicate`, `signature_invalid`, `malformed`, `queue_full`).
struct WebhookMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    func delivery(result: String) {
        registry.makeCounter(name: "controlplane_webhook_deliveries_total", labels: [("result", result)]).increment()
    }
}
