import Foundation
import Jobs
import Persistence
import Tenancy
import TestKit
import Testing

/// Notes that jobs reached Redis, without HTTP: a job is noted only at the attempt it was sent with and
/// only under its own tenant, its delivery moves from accepted to enqueued once one of its jobs is
/// noted, and a batch of a thousand jobs of one tenant is noted whole in one flush.
@Suite(.timeLimit(.minutes(2))) struct EnqueueMarkerTests {
    /// A delivery of `tenantID`, accepted, with `count` queued jobs; answers its id and the jobs' ids.
    static func delivery(of tenantID: TenantID, jobs count: Int, in database: Database) async throws
        -> (UUID, [UUID])
    {
        let deliveryID = UUID()
        let ids = (0..<count).map { _ in UUID() }
        _ = try await database.transaction(.platform) { connection in
            try await connection.query(
                """
                SELECT delivery_id FROM webhook_accept(
                    \(tenantID.rawValue), \(UUID()), \(deliveryID), \("mark-\(UUID().uuidString)"), 'push', NULL,
                    'octo/app', 'refs/heads/main', 'accepted', NULL, 'application/json', \(Data("{}".utf8)),
                    \(ids.map { _ in "commitments" }), \(ids), 5)
                """, logger: TestDatabase.logger)
        }
        return (deliveryID, ids)
    }

    /// The jobs of `tenantID` noted as enqueued, and the status of `deliveryID`.
    static func state(of tenantID: TenantID, delivery deliveryID: UUID, in database: Database) async throws
        -> (enqueued: Set<UUID>, status: String)
    {
        try await database.withTenant(tenantID) { transaction in
            var enqueued: Set<UUID> = []
            for try await id in try await transaction.query(
                "SELECT job_id FROM jobs WHERE enqueued_at IS NOT NULL"
            ).decode(UUID.self) {
                enqueued.insert(id)
            }
            var status = ""
            for try await value in try await transaction.query(
                "SELECT status FROM webhook_deliveries WHERE delivery_id = \(deliveryID)"
            ).decode(String.self) {
                status = value
            }
            return (enqueued, status)
        }
    }

    @Test func aJobIsNotedAtItsAttemptUnderItsOwnTenant() async throws {
        try await TestDatabase.with { database in
            let marker = EnqueueMarker(database: database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "mark")
            let otherID = try await TestDatabase.tenant(in: database, prefix: "mark")
            let (noted, notedJobs) = try await Self.delivery(of: tenantID, jobs: 2, in: database)
            let (waiting, waitingJobs) = try await Self.delivery(of: tenantID, jobs: 1, in: database)
            let (others, otherJobs) = try await Self.delivery(of: otherID, jobs: 1, in: database)
            marker.mark([
                QueuedJob(tenantID: tenantID, jobID: notedJobs[0]),
                // Sent at an attempt the job no longer has: not noted.
                QueuedJob(tenantID: tenantID, jobID: notedJobs[1], attempts: 1),
                QueuedJob(tenantID: tenantID, jobID: waitingJobs[0], attempts: 2),
                // Another tenant's job named under this tenant: not noted.
                QueuedJob(tenantID: tenantID, jobID: otherJobs[0]),
            ])
            try await marker.flush()

            let mine = try await Self.state(of: tenantID, delivery: noted, in: database)
            #expect(mine.enqueued == [notedJobs[0]])
            #expect(mine.status == "enqueued")
            #expect(try await Self.state(of: tenantID, delivery: waiting, in: database).status == "accepted")
            let theirs = try await Self.state(of: otherID, delivery: others, in: database)
            #expect(theirs.enqueued.isEmpty && theirs.status == "accepted")
        }
    }

    @Test func aThousandJobsAreNotedInOneFlush() async throws {
        try await TestDatabase.with { database in
            let marker = EnqueueMarker(database: database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "mark")
            var deliveries: [UUID] = []
            var jobs: [UUID] = []
            for _ in 0..<250 {
                let (delivery, ids) = try await Self.delivery(of: tenantID, jobs: 4, in: database)
                deliveries.append(delivery)
                jobs += ids
            }
            marker.mark(jobs.map { QueuedJob(tenantID: tenantID, jobID: $0) })
            try await marker.flush()
            let state = try await Self.state(of: tenantID, delivery: deliveries[137], in: database)
            #expect(state.enqueued == Set(jobs))
            #expect(state.status == "enqueued")
            let accepted = try await database.withTenant(tenantID) { transaction in
                var count = 0
                for try await value in try await transaction.query(
                    "SELECT count(*) FROM webhook_deliveries WHERE status = 'accepted'"
                ).decode(Int.self) {
                    count = value
                }
                return count
            }
            #expect(accepted == 0)
        }
    }
}
