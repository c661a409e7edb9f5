import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Tenancy
import Webhooks

/// Publishes every `interval` how many jobs each tenant has waiting (`background_jobs_pending`) and
/// running (`background_jobs_running`), counted in Postgres (the record, whatever Redis holds), so
/// workers can be scaled on queue depth and a tenant's backlog is visible. A tenant whose count fell to
/// zero is reported as zero once more, then left out.
struct PendingJobsGauge: Service {
    let database: Database
    let registry: PrometheusCollectorRegistry
    let interval: Duration
    let logger: Logger

    /// One count: the open jobs by tenant.
    func count() async throws -> [TenantID: (queued: Int, running: Int)] {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.query(
                """
                SELECT tenant_id, count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'running')
                FROM jobs WHERE status IN ('queued', 'running') GROUP BY tenant_id
                """, logger: database.logger)
            var counts: [TenantID: (queued: Int, running: Int)] = [:]
            for try await row in rows.decode((UUID, Int64, Int64).self) {
                counts[TenantID(row.0)] = (Int(row.1), Int(row.2))
            }
            return counts
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var reported = Set<TenantID>()
            while !Task.isCancelled {
                do {
                    let counts = try await count()
                    for tenant in reported.union(counts.keys) {
                        let labels = [("tenant", tenant.description)]
                        registry.makeGauge(name: "background_jobs_pending", labels: labels)
                            .set(Double(counts[tenant]?.queued ?? 0))
                        registry.makeGauge(name: "background_jobs_running", labels: labels)
                            .set(Double(counts[tenant]?.running ?? 0))
                    }
                    reported = Set(counts.keys)
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("counting pending jobs failed", metadata: ["error": "\(error)"])
                }
                try? await Pause.for(interval)
            }
        }
    }
}
