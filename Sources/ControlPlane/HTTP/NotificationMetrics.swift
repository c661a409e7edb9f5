import Notifications
import Prometheus

/// Notification attempts by outcome (`delivered`, `retrying`, `failed`, `refused`) in the application's
/// Prometheus registry.
struct NotificationMetrics: NotificationObserver {
    let registry: PrometheusCollectorRegistry
    static let outcomes = ["delivered", "retrying", "failed", "refused"]

    /// Registers every outcome at zero, so rates exist before the first notification.
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for outcome in Self.outcomes {
            _ = registry.makeCounter(name: "controlplane_notification_attempts_total", labels: [("outcome", outcome)])
        }
    }

    func attempt(outcome: String) {
        registry.makeCounter(name: "controlplane_notification_attempts_total", labels: [("outcome", outcome)])
            .increment()
    }
}
