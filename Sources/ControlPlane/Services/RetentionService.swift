import BlockingWork
import Foundation
import Logging
import Prometheus
import Runtime
import ServiceLifecycle

/// Runs the retention pruner every `interval` (`CP_RETENTION_INTERVAL_SECONDS`) in each worker (two workers on one tenant at once: one
/// prunes, the other skips it) and counts what went in `controlplane_retention_pruned_rows_total{kind}`.
struct RetentionService: Service {
    let pruner: RetentionPruner
    let interval: Duration
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    func run() async throws {
        let counters = [
            "jobs", "deliveries", "usage_records", "notifications", "audit_events", "sessions", "invitations",
        ].map { kind in
            (kind, registry.makeCounter(name: "controlplane_retention_pruned_rows_total", labels: [("kind", kind)]))
        }
        // The first pass comes one interval after start, so a rollout of many workers does not start them
        // all on the same tenants at once.
        await Periodic.run(
            every: interval, start: .afterOneInterval, onShutdown: .cancelThePass, logger: logger,
            failure: "retention pass failed"
        ) {
            let pruned = try await pruner.prune()
            let counts = [
                pruned.jobs, pruned.deliveries, pruned.usageRecords, pruned.notifications, pruned.auditEvents,
                pruned.sessions, pruned.invitations,
            ]
            for ((_, counter), count) in zip(counters, counts) where count > 0 {
                counter.increment(by: Double(count))
            }
            if pruned.total > 0 {
                logger.info(
                    "pruned rows past retention",
                    metadata: zip(counters, counts).reduce(into: [:]) { $0[$1.0.0] = "\($1.1)" })
            }
        }
    }
}
