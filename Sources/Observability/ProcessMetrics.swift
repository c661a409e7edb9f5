import Auth
import BlockingWork
import Edge
import Persistence
import Prometheus

/// Gauges of this process read at each scrape: the Postgres pool's use
/// (`controlplane_db_pool_connections_in_use` of `controlplane_db_pool_connections_max`) and, where the
/// invalidation listener runs, how old its freshest heartbeat is
/// (`controlplane_invalidation_heartbeat_age_seconds`; before the first one or after a lost connection,
/// the time since the process started), and how late its periodic tasks woke since the last scrape
/// (`controlplane_executor_lag_seconds`, see `ExecutorLagMonitor`).
package enum ProcessMetrics {
    package static func register(
        on metrics: HTTPMetrics, database: Database, lag: ExecutorLagMonitor, cache: CredentialStateCache? = nil
    ) {
        let registry = metrics.registry
        let lagGauge = registry.makeGauge(name: "controlplane_executor_lag_seconds")
        metrics.beforeScrape.add { lagGauge.set(lag.takeMaximum().seconds) }
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
            age.set(elapsed.seconds)
        }
    }
}
