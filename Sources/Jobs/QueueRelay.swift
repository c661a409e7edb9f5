import BlockingWork
import Foundation
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle

/// Puts on Redis what Postgres says should be there: jobs committed but never noted as enqueued (Redis
/// was down or the replica died between commit and enqueue), and, when Redis lost its data (its epoch
/// key is gone), every open job. Runs in every process; sending a job twice is harmless.
public struct QueueRelay: Service {
    let database: Database
    let queue: JobQueue
    let marker: EnqueueMarker
    let interval: Duration
    /// How old an un-noted job must be before the relay sends it (the normal path notes it sooner).
    let minimumAge: Duration
    /// Whether a lost Redis (no epoch) is rebuilt from every open job in Postgres.
    let rebuilds: Bool
    /// How long a job may be noted as on Redis, still queued, while its tenant's stream is empty, before
    /// its entry counts as lost and it is sent again.
    let lostAfter: Duration
    let logger: Logger
    static let batch = 1000

    public init(
        database: Database, queue: JobQueue, marker: EnqueueMarker, interval: Duration = .seconds(1),
        minimumAge: Duration = .seconds(5), rebuilds: Bool = true, lostAfter: Duration = .seconds(60),
        logger: Logger
    ) {
        self.rebuilds = rebuilds
        self.lostAfter = lostAfter
        self.database = database
        self.queue = queue
        self.marker = marker
        self.interval = interval
        self.minimumAge = minimumAge
        self.logger = logger
    }

    public func run() async throws {
        await Periodic.run(
            every: interval, start: .afterOneInterval, logger: logger, failure: "queue relay failed; retrying"
        ) {
            let sent = try await relayOnce()
            if sent > 0 { logger.info("relay sent jobs to the queues", metadata: ["jobs": "\(sent)"]) }
        }
    }

    /// One pass; answers how many jobs it sent.
    @discardableResult
    public func relayOnce() async throws -> Int {
        if rebuilds, try await queue.claimEpoch() {
            return try await sendAll(query: { after, afterID in
                """
                SELECT tenant_id, job_id, created_at, attempts FROM jobs
                WHERE status IN ('queued', 'running') AND (created_at, job_id) > (\(after), \(afterID))
                ORDER BY created_at, job_id LIMIT \(Self.batch)
                """
            })
        }
        let recovered = try await recoverLost()
        if recovered > 0 { logger.warning("jobs lost from Redis are sent again", metadata: ["jobs": "\(recovered)"]) }
        let age = minimumAge.seconds
        return try await sendAll(query: { after, afterID in
            """
            SELECT tenant_id, job_id, created_at, attempts FROM jobs
            WHERE status = 'queued' AND enqueued_at IS NULL AND (created_at, job_id) > (\(after), \(afterID))
              AND created_at < now() - make_interval(secs => \(age)) AND available_at <= now()
            ORDER BY created_at, job_id LIMIT \(Self.batch)
            """
        })
    }

    /// Notes as not on Redis the jobs of tenants whose stream is empty although Postgres has had jobs of
    /// theirs queued and noted as sent for longer than `lostAfter`; answers how many. Such a tenant whose
    /// stream is not empty is marked ready again, in case its mark was lost (a node restarted without
    /// its last writes): entries nobody is told of are never read.
    func recoverLost() async throws -> Int {
        let age = lostAfter.seconds
        let suspects = try await database.transaction(.maintenance) { connection in
            var tenants: [TenantID] = []
            let rows = try await connection.statement(
                // One index probe per tenant (`jobs_sent_queued_idx`), not a read of every queued job.
                """
                WITH RECURSIVE suspects AS (
                    (SELECT j.tenant_id FROM jobs j
                     WHERE j.status = 'queued' AND j.enqueued_at IS NOT NULL
                       AND j.enqueued_at < now() - make_interval(secs => \(age))
                     ORDER BY j.tenant_id LIMIT 1)
                    UNION ALL
                    SELECT (SELECT j.tenant_id FROM jobs j
                            WHERE j.status = 'queued' AND j.enqueued_at IS NOT NULL
                              AND j.enqueued_at < now() - make_interval(secs => \(age)) AND j.tenant_id > s.tenant_id
                            ORDER BY j.tenant_id LIMIT 1)
                    FROM suspects s WHERE s.tenant_id IS NOT NULL
                )
                SELECT tenant_id FROM suspects WHERE tenant_id IS NOT NULL LIMIT 1000
                """, logger: database.logger)
            for try await tenant in rows.decode(UUID.self) { tenants.append(TenantID(tenant)) }
            return tenants
        }
        var lost: [UUID] = []
        for tenant in suspects {
            if try await queue.depth(tenant) == 0 {
                lost.append(tenant.rawValue)
            } else {
                try await queue.markReady(tenant)
            }
        }
        guard !lost.isEmpty else { return 0 }
        var count = 0
        let rows = try await database.query(
            "SELECT jobs_forget_enqueued(\(lost), \(age))", logger: database.logger)
        for try await forgotten in rows.decode(Int32.self) { count = Int(forgotten) }
        return count
    }

    private func sendAll(query: (Date, UUID) -> PostgresQuery) async throws -> Int {
        var after = Date(timeIntervalSince1970: 0)
        var afterID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        var sent = 0
        while true {
            let jobs = try await database.transaction(.maintenance) { connection in
                var found: [(QueuedJob, Date)] = []
                for try await row in try await connection.statement(query(after, afterID), logger: database.logger)
                    .decode((UUID, UUID, Date, Int32).self)
                {
                    found.append((QueuedJob(tenantID: TenantID(row.0), jobID: row.1, attempts: Int(row.3)), row.2))
                }
                return found
            }
            guard let last = jobs.last else { return sent }
            try await queue.enqueue(jobs.map(\.0))
            logger.debug("relay sent", metadata: ["jobs": "\(jobs.map { "\($0.0.jobID)/\($0.0.attempts)" })"])
            marker.mark(jobs.map(\.0))
            sent += jobs.count
            if jobs.count < Self.batch { return sent }
            (after, afterID) = (last.1, last.0.jobID)
        }
    }
}
