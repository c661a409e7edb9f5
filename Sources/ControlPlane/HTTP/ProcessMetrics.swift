import Auth
import Prometheus
import Tenancy

/// Gauges of this process read at each scrape: the Postgres pool's use
/// (`controlplane_db_pool_connections_in_use` of `controlplane_db_pool_connections_max`) and, where the
/// invalidation listener runs, how old its freshest heartbeat is
/// (`controlplane_invalidation_heartbeat_age_seconds`; before the first one or after a lost connection,
/// the time since the process started).
enum ProcessMetrics {
    static func register(on metrics: HTTPMetrics, database: Database, cache: CredentialStateCache? = nil) {
        let registry = metrics.registry
        let inUse = registry.makeGauge(name: "controlplane_db_pool_connections_in_use")
        let capacity = registry.makeGauge(name: "controlplane_db_pool_connections_max")
        let usage = database.usage
        capacity.set(Double(usage.capacity))
        metrics.beforeScrape.add { inUse.set(Double(usage.inUse)) }
        guard let cache else { return }
        let age = registry.makeGauge(name: "controlplane_invalidation_heartbeat_age_seconds")
        let started = ContinuousClock.now
        metrics.beforeScrape.add {
            let elapsed = cache.heartbeatAge ?? (ContinuousClock.now - started)
            age.set(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }
}
