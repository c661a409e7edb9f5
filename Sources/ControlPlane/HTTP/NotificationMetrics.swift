import Prometheus
import Runtime

/// Notification attempts by outcome (`delivered`, `retrying`, `failed`, `refused`) in the application's
/// Prometheus registry.
struct NotificationMetrics: NotificationObserver {
    let registry: PrometheusCollectorRegistry

    func attempt(outcome: String) {
        registry.makeCounter(name: "controlplane_notification_attempts_total", labels: [("outcome", outcome)])
            .increment()
    }
}
