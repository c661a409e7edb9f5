import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import TestKit
import Testing

extension QueueRecoveryTests {
    /// A `controlplane worker` process is killed with SIGKILL in the middle of its jobs: another worker
    /// takes them over after the visibility timeout and finishes them, and every commit ends with exactly
    /// one analysis per pipeline, billed once (plus at most the calls in flight when it died).
    @Test func aKilledWorkersJobsFinishElsewhereOnce() async throws {
        let binary = URL(fileURLWithPath: ".build/debug/controlplane")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the product first")
        let prefix = "cp-crash-\(UUID().uuidString.prefix(8).lowercased())"
        let slots = 4
        let pushes = 4
        let commits = 40
        let (tenant, tenantID) = try await TestEnvironment.withApp(configure: { $0.jobs.queuePrefix = prefix }) {
            client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            for seed in 0..<pushes {
                let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: commits, seed: 700 + seed))
                #expect(
                    try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                        == .accepted)
            }
            return (tenant, try #require(TenantID(string: tenant.tenantID)))
        }

        let opsPort = unusedLoopbackPort()
        let worker = Process()
        worker.executableURL = binary
        worker.arguments = ["worker"]
        worker.environment = try await TestEnvironment.childEnvironment().merging([
            "CP_QUEUE_PREFIX": prefix, "CP_WORKER_CONCURRENCY": "\(slots)", "CP_JOB_VISIBILITY_TIMEOUT_SECONDS": "3",
            "CP_QUEUE_REBUILD_AFTER_LOSS": "off", "CP_QUEUE_RELAY_INTERVAL_SECONDS": "3600", "CP_LOG_LEVEL": "error",
            "CP_DATABASE_POOL_SIZE": "6", "CP_DATABASE_POOL_MIN": "0", "CP_WORKER_HTTP_PORT": "\(opsPort)",
        ]) { _, new in new }
        worker.standardOutput = FileHandle.nullDevice
        try worker.run()
        // Killed once it is well into the jobs, with some of them running.
        let started = try await waitUntil(timeout: .seconds(60)) {
            try await Self.analyses(tenantID) >= 30
        }
        // Its own port answers probes and scrapes while it works.
        let ops = try await Self.opsRoutes(port: opsPort)
        kill(worker.processIdentifier, SIGKILL)
        await ChildProcess.exit(of: worker)
        #expect(started != nil, "the worker process made no analyses")
        #expect(ops.healthz == 200 && ops.readyz == 200, "healthz \(ops.healthz), readyz \(ops.readyz)")
        for metric in ["controlplane_db_pool_connections_max 6", "controlplane_db_pool_connections_in_use "] {
            #expect(ops.metrics.contains(metric), "the worker's /metrics lacks \(metric)")
        }
        let (runningAtKill, doneAtKill) = try await Self.jobs(tenantID)
        #expect(
            runningAtKill > 0 && doneAtKill < pushes * 3, "killed mid-way: \(runningAtKill) running, \(doneAtKill) done"
        )

        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.jobs.queuePrefix = prefix
                $0.jobs.relayInterval = .seconds(1)
                $0.runtime.worker.visibilityTimeout = .seconds(3)
            }
        ) { client in
            let all = try await Runtime.waitForJobs(
                client, tenant, status: "succeeded", count: pushes * 3, timeout: .seconds(120))
            #expect(
                all.count == pushes * 3 && all.allSatisfy { $0["status"] as? String == "succeeded" },
                "\(all.map { $0["status"] ?? "-" })")
            #expect(all.contains { ($0["attempts"] as? Int ?? 0) >= 2 }, "some job was taken over")
            // Each job that ended here is in the processing-time histogram (from its creation to its end).
            let metrics = String(buffer: try await client.send(.get, "/metrics").body)
            let ended = RuntimeAPITests.value(
                "controlplane_job_processing_seconds_count{pipeline=\"commitments\"}", in: metrics)
            #expect((ended ?? 0) >= 1, "commitments jobs that ended here: \(ended ?? 0)")
        }
        // One analysis per pipeline and commit, and the ledger holds each call made: at most the calls in
        // flight at the kill more than the analyses needed.
        #expect(try await Self.analyses(tenantID) == pushes * commits * 3)
        let needed = try await Self.callsNeeded(tenantID, jobs: pushes)
        let billed = try await Runtime.usageRows(tenant)
        #expect(billed >= needed && billed <= needed + slots * 2, "\(billed) calls billed, \(needed) needed")
    }

    /// The statuses of the worker's `/healthz` and `/readyz` and the text of its `/metrics`.
    static func opsRoutes(port: Int) async throws -> (healthz: UInt, readyz: UInt, metrics: String) {
        func get(_ path: String) async throws -> (UInt, String) {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 8 << 20)
            return (response.status.code, String(buffer: body))
        }
        return (try await get("/healthz").0, try await get("/readyz").0, try await get("/metrics").1)
    }

    static func analyses(_ tenant: TenantID) async throws -> Int {
        try await count(tenant, "SELECT count(*)::integer FROM analyses")
    }

    /// Jobs running, and jobs finished.
    static func jobs(_ tenant: TenantID) async throws -> (Int, Int) {
        (
            try await count(tenant, "SELECT count(*)::integer FROM jobs WHERE status = 'running'"),
            try await count(tenant, "SELECT count(*)::integer FROM jobs WHERE status = 'succeeded'")
        )
    }

    /// Provider calls the analyses took: one per analysis not reused, plus one push summary per job of
    /// `change_summary`.
    static func callsNeeded(_ tenant: TenantID, jobs: Int) async throws -> Int {
        try await count(tenant, "SELECT count(*)::integer FROM analyses WHERE NOT reused") + jobs
    }

    static func count(_ tenant: TenantID, _ sql: String) async throws -> Int {
        try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(tenant) { transaction in
                var value = 0
                for try await row in try await transaction.query(PostgresQuery(unsafeSQL: sql)).decode(Int32.self) {
                    value = Int(row)
                }
                return value
            }
        }
    }
}
