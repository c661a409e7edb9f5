import Notifications
import Prometheus

/// Notification attempts by outcome (`delivered`, `retrying`, `failed`, `refused`) in the application's
/// Prometheus registry.
package struct NotificationMetrics: NotificationObserver {
    package let registry: PrometheusCollectorRegistry
    package static let outcomes = ["delivered", "retrying", "failed", "refused"]

    /// Registers every outcome at zero, so rates exist before the first notification.
    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for outcome in Self.outcomes {
            _ = registry.makeCounter(name: "controlplane_notification_attempts_total", labels: [("outcome", outcome)])
        }
    }

    package func attempt(outcome: String) {
        registry.makeCounter(name: "controlplane_notification_attempts_total", labels: [("outcome", outcome)])
            .increment()
    }
}
