import Foundation
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// Prunes every tenant's rows past its plan's retention, in batches of `batchSize` rows of each kind per
/// short transaction (never a long lock), through the database's `retention_prune` (the application role
/// cannot delete from these tables otherwise). Usage records are folded into daily totals as they go.
public struct RetentionPruner: Sendable {
    /// Rows pruned in one pass, by kind.
    public struct Pruned: Sendable, Equatable {
        public var jobs = 0
        public var deliveries = 0
        public var usageRecords = 0
        public var notifications = 0
        public var auditEvents = 0
        /// Sessions and invitations over before the detail cutoff.
        public var sessions = 0
        public var invitations = 0

        public init() {}

        public var total: Int {
            jobs + deliveries + usageRecords + notifications + auditEvents + sessions + invitations
        }

        static func + (lhs: Pruned, rhs: Pruned) -> Pruned {
            var sum = lhs
            sum.jobs += rhs.jobs
            sum.deliveries += rhs.deliveries
            sum.usageRecords += rhs.usageRecords
            sum.notifications += rhs.notifications
            sum.auditEvents += rhs.auditEvents
            sum.sessions += rhs.sessions
            sum.invitations += rhs.invitations
            return sum
        }
    }

    let database: Database
    let policy: RetentionPolicy
    let batchSize: Int
    /// Batches per tenant in one pass, so one tenant's years of backlog cannot hold a pass for long; the
    /// next pass goes on where this one stopped.
    let maxBatchesPerTenant: Int

    public init(database: Database, policy: RetentionPolicy, batchSize: Int = 1000, maxBatchesPerTenant: Int = 100) {
        self.database = database
        self.policy = policy
        self.batchSize = batchSize
        self.maxBatchesPerTenant = maxBatchesPerTenant
    }

    /// One pass over every tenant (or only `only`) as of `now`; returns what went. With `untilDone`, a
    /// tenant's pass goes on past `maxBatchesPerTenant` until nothing is left.
    public func prune(now: Date = Date(), only: Set<TenantID>? = nil, untilDone: Bool = false) async throws -> Pruned {
        var pruned = Pruned()
        for (tenant, plan) in try await TenantRepository().allPlans(from: database) where only?.contains(tenant) ?? true
        {
            try Task.checkCancellation()
            pruned = pruned + (try await prune(tenant: tenant, plan: plan, now: now, untilDone: untilDone))
        }
        return pruned
    }

    /// One tenant's pass: batches until every kind comes back short of a full batch.
    public func prune(tenant: TenantID, plan: Tenant.Plan, now: Date, untilDone: Bool = false) async throws -> Pruned {
        let cutoffs = policy.cutoffs(for: plan, at: now)
        var pruned = Pruned()
        for _ in 0..<(untilDone ? Int.max : maxBatchesPerTenant) {
            try Task.checkCancellation()
            guard let batch = try await batch(tenant: tenant, detailBefore: cutoffs.detail, auditBefore: cutoffs.audit)
            else { break }  // another worker is pruning this tenant
            pruned = pruned + batch
            let counts = [batch.jobs, batch.deliveries, batch.usageRecords, batch.notifications, batch.auditEvents]
            guard counts.contains(where: { $0 >= batchSize }) else { break }
        }
        for _ in 0..<(untilDone ? Int.max : maxBatchesPerTenant) {
            try Task.checkCancellation()
            let batch = try await peopleBatch(tenant: tenant, before: cutoffs.detail)
            pruned = pruned + batch
            guard batch.sessions >= batchSize || batch.invitations >= batchSize else { break }
        }
        return pruned
    }

    private func peopleBatch(tenant: TenantID, before: Date) async throws -> Pruned {
        let rows = try await database.query(
            "SELECT sessions, invitations FROM people_prune(\(tenant.rawValue), \(before), \(batchSize)::integer)")
        var batch = Pruned()
        for try await row in rows.decode((Int32, Int32).self) {
            batch.sessions = Int(row.0)
            batch.invitations = Int(row.1)
        }
        return batch
    }

    private func batch(tenant: TenantID, detailBefore: Date, auditBefore: Date) async throws -> Pruned? {
        let rows = try await database.query(
            """
            SELECT jobs, deliveries, usage_records, notifications, audit_events
            FROM retention_prune(\(tenant.rawValue), \(detailBefore), \(auditBefore), \(batchSize)::integer)
            """)
        var batches: [Pruned] = []
        for try await row in rows.decode((Int32, Int32, Int32, Int32, Int32).self) {
            var batch = Pruned()
            batch.jobs = Int(row.0)
            batch.deliveries = Int(row.1)
            batch.usageRecords = Int(row.2)
            batch.notifications = Int(row.3)
            batch.auditEvents = Int(row.4)
            batches.append(batch)
        }
        return batches.first
    }
}
