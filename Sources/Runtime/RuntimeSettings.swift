import Settings
import Tenancy

/// The worker and retention (`CP_WORKER_*`, `CP_JOB_*`, `CP_RETENTION_*`; README, "Configuration").
public struct RuntimeSettings: Sendable {
    /// The worker's slots, visibility timeout, backoff and reaper, the slots one tenant may hold (half the
    /// slots by default) and how long one attempt of a job may run.
    public var worker: WorkerSettings
    /// Days each plan keeps deliveries, jobs, usage detail and sent notifications, and audit events; daily
    /// usage totals stay.
    public var retentionPolicy: RetentionPolicy
    /// How often each worker prunes what is past retention.
    public var retentionInterval: Duration

    public init(_ reader: SettingsReader) throws {
        let slotsPerTenant =
            reader.optional("CP_WORKER_SLOTS_PER_TENANT") == nil
            ? nil : try reader.integer("CP_WORKER_SLOTS_PER_TENANT", 4, 1...1024)
        worker = WorkerSettings(
            concurrency: try reader.integer("CP_WORKER_CONCURRENCY", 8, 0...1024),
            visibilityTimeout: try reader.seconds("CP_JOB_VISIBILITY_TIMEOUT_SECONDS", 60, 1...86_400),
            backoffBase: try reader.milliseconds("CP_JOB_BACKOFF_BASE_MS", 2000, 1...3_600_000),
            backoffCap: try reader.seconds("CP_JOB_BACKOFF_CAP_SECONDS", 300, 1...86_400),
            reapInterval: try reader.seconds("CP_WORKER_REAP_INTERVAL_SECONDS", 10, 1...3600),
            slotsPerTenant: slotsPerTenant,
            jobDeadline: try reader.seconds("CP_JOB_DEADLINE_SECONDS", 600, 1...86_400))
        var detailDays: [Tenant.Plan: Int] = [:]
        var auditDays: [Tenant.Plan: Int] = [:]
        for plan in Tenant.Plan.allCases {
            let suffix = plan.rawValue.uppercased()
            detailDays[plan] = try reader.integer(
                "CP_RETENTION_DAYS_" + suffix, RetentionPolicy.standard.detailDays[plan] ?? 30, 1...36_500,
                documentedAs: "CP_RETENTION_DAYS_<PLAN>")
            auditDays[plan] = try reader.integer(
                "CP_AUDIT_RETENTION_DAYS_" + suffix, RetentionPolicy.standard.auditDays[plan] ?? 365, 1...36_500,
                documentedAs: "CP_AUDIT_RETENTION_DAYS_<PLAN>")
        }
        retentionPolicy = RetentionPolicy(detailDays: detailDays, auditDays: auditDays)
        retentionInterval = try reader.seconds("CP_RETENTION_INTERVAL_SECONDS", 3600, 1...86_400)
    }
}
