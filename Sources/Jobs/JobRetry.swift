import Foundation
import Persistence
import Tenancy

/// A failed or dead job run again at a person's word: its attempts reset and its delivery accepted again,
/// audited in the same transaction; a job that is queued, running or succeeded is left alone. The job is
/// committed before it is queued, so the relay sends it should Redis not take it now.
public struct JobRetry: Sendable {
    let database: Database
    let queue: JobQueue
    let marker: EnqueueMarker
    /// How long sending the job at once may take before it is left to the relay.
    let enqueueTimeout: Duration
    let jobs = JobStore()
    let audit = AuditLog()

    public init(
        database: Database, queue: JobQueue, marker: EnqueueMarker, enqueueTimeout: Duration = .milliseconds(300)
    ) {
        self.database = database
        self.queue = queue
        self.marker = marker
        self.enqueueTimeout = enqueueTimeout
    }

    /// Queues job `id` of `tenantID` again; answers it as it now stands.
    public func retry(_ id: UUID, tenantID: TenantID, recordedAs caller: AuditLog.Caller) async throws -> JobRecord {
        let job = try await database.withTenant(tenantID) { transaction -> JobRecord in
            if let retried = try await jobs.retry(id, in: transaction) {
                try await audit.record(caller.entry("job.retry", targetType: "job", targetID: id.text), in: transaction)
                return retried
            }
            guard let existing = try await jobs.find(id, in: transaction) else { throw Refusal.notFound("job") }
            throw Refusal.conflict("Only a failed or dead job can be retried; this one is \(existing.status.rawValue).")
        }
        let queued = [QueuedJob(tenantID: tenantID, jobID: id)]
        if (try? await queue.enqueue(queued, timeout: enqueueTimeout)) != nil { marker.mark(queued) }
        return job
    }
}
