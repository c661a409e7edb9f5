import Foundation
import HummingbirdTesting
import PostgresNIO
import TestKit
import Testing

/// A delivery settles once its last job finishes, however its jobs' finishes interleave.
@Suite(.timeLimit(.minutes(2))) struct DeliverySettlementTests {
    /// Two jobs of one delivery finish at once in two transactions: each one, taken alone, sees the
    /// other still running. The delivery must still end `processed`, not stay `enqueued` for ever.
    @Test func jobsFinishingAtOnceStillSettleTheirDelivery() async throws {
        try await TestEnvironment.withApp(worker: false) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(
                token: tenant.token, pipelines: ["commitments", "change_summary"])
            let push = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 57))
            let response = try await client.deliver(endpoint.url, event: "push", body: push, secret: endpoint.secret)
            #expect(response.status == .accepted)
            let deliveryID = try #require(try response.jsonObject()["delivery_id"] as? String)
            let jobs = try await Runtime.waitForJobs(client, tenant, status: "queued", count: 2)
            let jobIDs = jobs.compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
            try #require(jobIDs.count == 2, "\(jobs)")
            let tenantID = try #require(UUID(uuidString: tenant.tenantID))

            try await TestEnvironment.withDatabase(connections: 3) { pool in
                let tokens = [UUID(), UUID()]
                for (job, token) in zip(jobIDs, tokens) {
                    let claimed = try await pool.query(
                        "SELECT attempts FROM job_claim(\(tenantID), \(job), \(token), 60)",
                        logger: TestEnvironment.logger
                    ).collect()
                    try #require(claimed.count == 1)
                }
                try await Self.finishInterleaved(pool, tenantID, jobs: jobIDs, tokens: tokens)
            }

            let delivery = try await client.send(.get, "/v1/deliveries/\(deliveryID)", token: tenant.token)
                .jsonObject()
            #expect(delivery["status"] as? String == "processed", "\(delivery)")
        }
    }

    /// Finishes the first job in an open transaction, then the second in another, and commits the
    /// first only once the second has finished or is seen waiting for a lock.
    private static func finishInterleaved(_ pool: PostgresClient, _ tenant: UUID, jobs: [UUID], tokens: [UUID])
        async throws
    {
        try await pool.withConnection { first in
            try await first.query("BEGIN", logger: TestEnvironment.logger)
            try await first.query(
                "SELECT job_finish(\(tenant), \(jobs[0]), \(tokens[0]), 'succeeded', NULL, 0)",
                logger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                let second = TestLatch()
                group.addTask {
                    try await pool.withConnection { connection in
                        try await connection.query("BEGIN", logger: TestEnvironment.logger)
                        try await connection.query(
                            "SELECT job_finish(\(tenant), \(jobs[1]), \(tokens[1]), 'succeeded', NULL, 0)",
                            logger: TestEnvironment.logger)
                        try await connection.query("COMMIT", logger: TestEnvironment.logger)
                    }
                    second.open()
                }
                let waited = try await waitUntil(timeout: .seconds(10)) {
                    if second.isOpen { return true }
                    let waiting = try await pool.query(
                        """
                        SELECT count(*)::integer FROM pg_stat_activity
                        WHERE wait_event_type = 'Lock' AND query LIKE '%job_finish%'
                        """, logger: TestEnvironment.logger
                    ).collect()
                    return try waiting.first?.decode(Int32.self) ?? 0 > 0
                }
                #expect(waited != nil, "the second finish neither ended nor waited")
                try await first.query("COMMIT", logger: TestEnvironment.logger)
                try await group.waitForAll()
            }
        }
    }
}
