import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Tenancy

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
    let logger: Logger
    static let batch = 1000

    public init(
        database: Database, queue: JobQueue, marker: EnqueueMarker, interval: Duration = .seconds(1),
        minimumAge: Duration = .seconds(5), logger: Logger
    ) {
        self.database = database
        self.queue = queue
        self.marker = marker
        self.interval = interval
        self.minimumAge = minimumAge
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                let sent = try await relayOnce()
                if sent > 0 { logger.info("relay sent jobs to the queues", metadata: ["jobs": "\(sent)"]) }
            } catch {
                logger.warning("queue relay failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass; answers how many jobs it sent.
    @discardableResult
    public func relayOnce() async throws -> Int {
        if try await queue.claimEpoch() {
            return try await sendAll(query: { after, afterID in
                """
                SELECT tenant_id, job_id, created_at FROM jobs
                WHERE status IN ('queued', 'running') AND (created_at, job_id) > (\(after), \(afterID))
                ORDER BY created_at, job_id LIMIT \(Self.batch)
                """
            })
        }
        let age = Double(minimumAge.components.seconds) + Double(minimumAge.components.attoseconds) / 1e18
        return try await sendAll(query: { after, afterID in
            """
            SELECT tenant_id, job_id, created_at FROM jobs
            WHERE status = 'queued' AND enqueued_at IS NULL AND (created_at, job_id) > (\(after), \(afterID))
              AND created_at < now() - make_interval(secs => \(age))
            ORDER BY created_at, job_id LIMIT \(Self.batch)
            """
        })
    }

    private func sendAll(query: (Date, UUID) -> PostgresQuery) async throws -> Int {
        var after = Date(timeIntervalSince1970: 0)
        var afterID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        var sent = 0
        while true {
            let jobs = try await database.transaction(.maintenance) { connection in
                var found: [(QueuedJob, Date)] = []
                for try await row in try await connection.query(query(after, afterID), logger: database.logger)
                    .decode((UUID, UUID, Date).self)
                {
                    found.append((QueuedJob(tenantID: TenantID(row.0), jobID: row.1), row.2))
                }
                return found
            }
            guard let last = jobs.last else { return sent }
            try await queue.enqueue(jobs.map(\.0))
            marker.mark(jobs.map(\.0))
            sent += jobs.count
            if jobs.count < Self.batch { return sent }
            (after, afterID) = (last.1, last.0.jobID)
        }
    }
}
