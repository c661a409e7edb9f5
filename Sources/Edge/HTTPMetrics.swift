import Persistence
import Prometheus
import Synchronization

/// Request counts and latencies by route template, method and status, and by authenticated tenant, in
/// this application's own Prometheus registry (served at `/metrics`).
public struct HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Run before each scrape, for gauges read at that moment (pool use, heartbeat age).
    package let beforeScrape = ScrapeHooks()
    private static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    package func record(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(name: "http_requests_total", labels: labels).increment()
        registry.makeDurationHistogram(
            name: "http_request_duration_seconds", labels: [("route", route), ("method", method)],
            buckets: Self.buckets
        ).record(duration)
    }

    private static let tenantBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// An authenticated tenant's request: counted by status class (`2xx`, `4xx`, `5xx`, ...) and timed,
    /// with fewer buckets than the per-route histogram (one series set per tenant).
    package func record(tenant: TenantID, status: Int, duration: Duration) {
        let label = ("tenant", tenant.description)
        registry.makeCounter(
            name: "controlplane_tenant_requests_total", labels: [label, ("class", "\(status / 100)xx")]
        )
        .increment()
        registry.makeDurationHistogram(
            name: "controlplane_tenant_request_duration_seconds", labels: [label], buckets: Self.tenantBuckets
        ).record(duration)
    }

    /// The text exposition of every metric.
    public func exposition() -> String {
        beforeScrape.run()
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// Gauges set at scrape time, so they say how things are when Prometheus asks.
package final class ScrapeHooks: Sendable {
    private let hooks = Mutex<[@Sendable () -> Void]>([])

    package func add(_ hook: @escaping @Sendable () -> Void) { hooks.withLock { $0.append(hook) } }

    package func run() {
        for hook in hooks.withLock({ $0 }) { hook() }
    }
}
