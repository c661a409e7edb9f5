import Foundation
import Jobs
import Persistence
import RedisClient
import Tenancy
import TestKit
import Testing

/// Running a job again without HTTP: only a failed or dead job goes back, with its attempts reset, onto
/// its tenant's queue at once, audited; any other job, an unknown one or another tenant's is refused.
@Suite(.timeLimit(.minutes(2))) struct JobRetryTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-retry", clientAddress: nil)

    /// A delivery of `tenantID` with one job per status in `statuses`; answers the jobs' ids in order.
    static func jobs(_ statuses: [JobStatus], of tenantID: TenantID, in database: Database) async throws -> [UUID] {
        let ids = statuses.map { _ in UUID() }
        _ = try await database.transaction(.platform) { connection in
            try await connection.query(
                """
                SELECT delivery_id FROM webhook_accept(
                    \(tenantID.rawValue), \(UUID()), \(UUID()), \("retry-\(UUID().uuidString)"), 'push', NULL,
                    'octo/app', 'refs/heads/main', 'accepted', NULL, 'application/json', \(Data("{}".utf8)),
                    \(ids.map { _ in "commitments" }), \(ids), 5)
                """, logger: TestDatabase.logger)
        }
        try await database.withTenant(tenantID) { transaction in
            for (id, status) in zip(ids, statuses) {
                try await transaction.query(
                    """
                    UPDATE jobs SET status = \(status.rawValue), attempts = 5, enqueued_at = now()
                    WHERE tenant_id = \(tenantID.rawValue) AND job_id = \(id)
                    """)
            }
        }
        return ids
    }

    @Test func onlyAFailedOrDeadJobGoesBackOntoItsQueue() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CP_REDIS_URL"], "run through scripts/test")
        try await TestDatabase.with { database in
            let queue = JobQueue(
                redis: try RedisClient(url: url), keys: QueueKeys(prefix: "retry-test-\(UUID().uuidString.prefix(8))"))
            let marker = EnqueueMarker(database: database)
            let retry = JobRetry(database: database, queue: queue, marker: marker)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "retry")
            let otherID = try await TestDatabase.tenant(in: database, prefix: "retry")
            let ids = try await Self.jobs([.dead, .failed, .succeeded, .running], of: tenantID, in: database)

            let dead = try await retry.retry(ids[0], tenantID: tenantID, recordedAs: Self.caller)
            #expect(dead.status == .queued && dead.attempts == 0)
            _ = try await retry.retry(ids[1], tenantID: tenantID, recordedAs: Self.caller)
            #expect(try await queue.depth(tenantID) == 2)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await retry.retry(ids[2], tenantID: tenantID, recordedAs: Self.caller)
                } == .conflict("Only a failed or dead job can be retried; this one is succeeded."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await retry.retry(ids[3], tenantID: tenantID, recordedAs: Self.caller)
                } == .conflict("Only a failed or dead job can be retried; this one is running."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await retry.retry(ids[0], tenantID: otherID, recordedAs: Self.caller)
                } == .notFound("job"))
            #expect(try await queue.depth(otherID) == 0)
            let entries = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry)
            }
            #expect(entries.map(\.action) == ["job.retry", "job.retry"])
            #expect(Set(entries.map(\.targetID)) == Set(ids[0...1].map(\.text)))
        }
    }
}
