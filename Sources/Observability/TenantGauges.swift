import BlockingWork
import Foundation
import Logging
import Persistence
import Prometheus
import ServiceLifecycle
import Synchronization

/// Publishes every `interval`, counted in Postgres (the record, whatever Redis holds): how many jobs each
/// tenant has waiting (`background_jobs_pending`) and running (`background_jobs_running`), so workers
/// can be scaled on queue depth and a tenant's backlog is visible; and each active tenant's budget use
/// in its current period next to its soft limit (`controlplane_budget_used_ratio`,
/// `controlplane_budget_soft_limit_ratio`, both fractions of the token limit); and each tenant's
/// `intervention_acceptance_rate`, accepted over answered interventions of the last 28 days. A tenant
/// whose job count fell to zero is reported as zero once more, then left out.
package struct TenantGauges: Service {
    package let database: Database
    package let registry: PrometheusCollectorRegistry
    package let interval: Duration
    package let logger: Logger

    package init(database: Database, registry: PrometheusCollectorRegistry, interval: Duration, logger: Logger) {
        self.database = database
        self.registry = registry
        self.interval = interval
        self.logger = logger
    }

    /// One count: the open jobs by tenant.
    package func count() async throws -> [TenantID: (queued: Int, running: Int)] {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.statement(
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

    /// Each active tenant's billed tokens in its current period and soft limit, as fractions of its
    /// token limit (a limit of 0 counts as fully used).
    package func budgets() async throws -> [TenantID: (used: Double, softLimit: Double)] {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.statement(
                """
                SELECT b.tenant_id,
                       CASE WHEN b.token_limit = 0 THEN 1.0
                            ELSE COALESCE(pd.used, 0)::double precision / b.token_limit END,
                       b.soft_limit_percent / 100.0::double precision
                FROM budgets b
                JOIN tenants t ON t.tenant_id = b.tenant_id AND t.status = 'active'
                CROSS JOIN LATERAL budget_period_bounds(b.period, t.timezone, now()) s
                LEFT JOIN budget_periods pd ON pd.tenant_id = b.tenant_id AND pd.period = b.period
                     AND pd.period_start = s.period_start
                """, logger: database.logger)
            var found: [TenantID: (used: Double, softLimit: Double)] = [:]
            for try await row in rows.decode((UUID, Double, Double).self) {
                found[TenantID(row.0)] = (row.1, row.2)
            }
            return found
        }
    }

    /// Accepted over answered interventions of the last 28 days, for each tenant that had one answered.
    package func acceptanceRates() async throws -> [TenantID: Double] {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.statement(
                """
                SELECT tenant_id, (count(*) FILTER (WHERE status = 'accepted'))::double precision / count(*)
                FROM interventions
                WHERE status IN ('accepted', 'dismissed') AND outcome_at > now() - interval '28 days'
                GROUP BY tenant_id
                """, logger: database.logger)
            var rates: [TenantID: Double] = [:]
            for try await row in rows.decode((UUID, Double).self) { rates[TenantID(row.0)] = row.1 }
            return rates
        }
    }

    package func run() async throws {
        // The tenants given a job gauge last pass: one whose jobs are all gone is set to 0 once.
        let reported = Mutex(Set<TenantID>())
        await Periodic.run(
            every: interval, onShutdown: .cancelThePass, logger: logger,
            failure: "counting tenants' jobs and budgets failed"
        ) {
            let counts = try await count()
            for tenant in reported.withLock({ $0 }).union(counts.keys) {
                let labels = [("tenant", tenant.description)]
                registry.makeGauge(name: "background_jobs_pending", labels: labels)
                    .set(Double(counts[tenant]?.queued ?? 0))
                registry.makeGauge(name: "background_jobs_running", labels: labels)
                    .set(Double(counts[tenant]?.running ?? 0))
            }
            reported.withLock { $0 = Set(counts.keys) }
            for (tenant, budget) in try await budgets() {
                let labels = [("tenant", tenant.description)]
                registry.makeGauge(name: "controlplane_budget_used_ratio", labels: labels).set(budget.used)
                registry.makeGauge(name: "controlplane_budget_soft_limit_ratio", labels: labels)
                    .set(budget.softLimit)
            }
            for (tenant, rate) in try await acceptanceRates() {
                registry.makeGauge(
                    name: "intervention_acceptance_rate", labels: [("tenant", tenant.description)]
                )
                .set(rate)
            }
        }
    }
}
