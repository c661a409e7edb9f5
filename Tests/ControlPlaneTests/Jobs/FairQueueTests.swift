import Foundation
import HummingbirdTesting
import Jobs
import Persistence
import PostgresNIO
import RedisClient
import Testing

// In the serialized suite: a relay running alongside could take A's backlog for its own queues.
extension QueueRecoveryTests {
    /// Tenant A has 10,000 jobs queued; tenant B's single job, queued after them, starts before each
    /// worker slot has started more than one more of A's jobs (counted from when B's job was on its queue).
    @Test func aSingleJobIsNotStuckBehindAnotherTenantsTenThousand() async throws {
        let prefix = "cp-fair-\(UUID().uuidString.prefix(8).lowercased())"
        let slots = 4
        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.jobs.queuePrefix = prefix
                $0.runtime.worker.concurrency = slots
            }
        ) { client in
            let big = try await client.signup()
            let small = try await client.signup()
            let bigID = try #require(TenantID(string: big.tenantID))
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 61))
            let jobIDs = (0..<10_000).map { _ in UUID() }
            try await TestEnvironment.withDatabase { pool in
                try await pool.query(
                    """
                    SELECT delivery_id FROM webhook_accept(
                        \(bigID.rawValue), \(UUID()), \(UUID()), \("fair-\(UUID().uuidString)"), 'push', NULL,
                        'octo-org/hello-world', 'refs/heads/main', 'accepted', NULL, 'application/json', \(Data(body)),
                        \(jobIDs.map { _ in "commitments" }), \(jobIDs), 5)
                    """)
                // Noted as enqueued at once (they are, just below), so no relay of another test sends them too.
                _ = try await Database(client: pool, logger: TestEnvironment.logger).withTenant(bigID) {
                    try await $0.query("UPDATE jobs SET enqueued_at = now() WHERE tenant_id = \(bigID.rawValue)")
                }
            }
            let queue = JobQueue(
                redis: try RedisClient(url: try TestEnvironment.configuration.redis.url),
                keys: QueueKeys(prefix: prefix)
            )
            for start in stride(from: 0, to: jobIDs.count, by: 1000) {
                try await queue.enqueue(jobIDs[start..<(start + 1000)].map { QueuedJob(tenantID: bigID, jobID: $0) })
            }
            // A's jobs are running before B's arrives.
            _ = try await Runtime.waitForJobs(client, big, status: "succeeded", count: 20)

            let endpoint = try await client.createEndpoint(token: small.token, pipelines: ["commitments"])
            let response = try await client.deliver(
                endpoint.url, event: "push", body: try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 62)),
                secret: endpoint.secret)
            #expect(response.status == .accepted)
            // B's job is on its queue by the time the 202 arrives: the bound counts from here.
            let queuedBy = Date()
            let jobs = try await Runtime.waitForJobs(client, small, status: "succeeded", count: 1)
            let smallJob = try #require(jobs.first?["id"] as? String)

            let (overtaking, waited, bigLeft) = try await TestEnvironment.withDatabase { pool in
                let database = Database(client: pool, logger: TestEnvironment.logger)
                let smallID = try #require(TenantID(string: small.tenantID))
                let times = try await database.withTenant(smallID) { transaction -> (Date, Date) in
                    var found: (Date, Date)?
                    for try await row in try await transaction.query(
                        "SELECT created_at, started_at FROM jobs WHERE job_id = \(UUID(uuidString: smallJob)!)"
                    ).decode((Date, Date).self) { found = row }
                    return try #require(found)
                }
                return try await database.withTenant(bigID) { transaction -> (Int, Double, Int) in
                    var overtaking = 0
                    for try await count in try await transaction.query(
                        """
                        SELECT count(*)::integer FROM jobs
                        WHERE tenant_id = \(bigID.rawValue) AND started_at > \(queuedBy) AND started_at < \(times.1)
                        """
                    ).decode(Int32.self) { overtaking = Int(count) }
                    var left = 0
                    // What is left of A's backlog is ended here, so nothing else ever picks it up.
                    for try await count in try await transaction.query(
                        """
                        WITH ended AS (
                            UPDATE jobs SET status = 'failed', last_error = 'test over', enqueued_at = now()
                            WHERE tenant_id = \(bigID.rawValue) AND status = 'queued' RETURNING 1)
                        SELECT count(*)::integer FROM ended
                        """
                    ).decode(Int32.self) { left = Int(count) }
                    return (overtaking, times.1.timeIntervalSince(times.0), left)
                }
            }
            #expect(bigLeft > 5_000, "A's backlog was still there when B's job ran (\(bigLeft) left)")
            #expect(overtaking <= slots, "\(overtaking) of A's jobs started between B's arrival and B's start")
            #expect(waited < 1.0, "B waited \(waited) s")
        }
    }
}
