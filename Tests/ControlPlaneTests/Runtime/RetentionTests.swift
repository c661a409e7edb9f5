import Billing
import BlockingWork
import ControlPlane
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import Runtime
import Testing

/// Retention: with the clock moved forward, each plan's detail (deliveries, jobs, usage records) and
/// audit events go exactly when the plan says, open work stays whatever its age, and usage by day and
/// the budget reconciliation answer as before.
@Suite(.timeLimit(.minutes(3))) struct RetentionTests {
    static let policy = RetentionPolicy(
        detailDays: [.free: 7, .team: 30, .enterprise: 365], auditDays: [.free: 60, .team: 90, .enterprise: 400])

    @Test func aClockMovedForwardPrunesExactlyWhatThePlanSays() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        // As the owner role, which may prune as of any moment (the clock moved forward).
        try await TestEnvironment.withDatabase(owner: true) { pool in
            let database = Database(client: pool, logger: TestEnvironment.logger)
            try await Self.run(database: database, operatorToken: operatorToken)
        }
    }

    static func run(database: Database, operatorToken: String) async throws {
        // This app's relay sends nothing it did not queue itself: the tests' short relay ages would have it
        // send the idle app's jobs, waiting on another queue prefix, onto its own, where its worker ran
        // them whenever the test took over ten seconds (a loaded machine).
        let ownJobsOnly: @Sendable (inout Configuration) -> Void = {
            $0.jobs.lostAfter = .seconds(3600)
            $0.jobs.relayMinimumAge = .seconds(3600)
        }
        try await TestEnvironment.withApp(worker: true, configure: ownJobsOnly) { client in
            // Deliveries sent through an app without a worker keep their jobs queued.
            try await TestEnvironment.withApp { idle in
                let free = try await client.signup()
                let team = try await client.signup()
                let plan = try await client.send(
                    .patch, "/v1/admin/tenants/\(team.tenantID)", token: operatorToken, json: ["plan": "team"])
                #expect(plan.status == .ok, "\(String(buffer: plan.body))")
                let freeHook = try await client.createEndpoint(token: free.token)
                let teamHook = try await client.createEndpoint(token: team.token)

                // Before the middle: a push each that runs, and one of the free tenant's that stays queued.
                try await Self.push(client, freeHook, seed: 401)
                try await Self.push(client, teamHook, seed: 402)
                try await Self.push(idle, freeHook, seed: 403)
                _ = try await Runtime.waitForJobs(client, free, status: "succeeded", count: 3)
                _ = try await Runtime.waitForJobs(client, team, status: "succeeded", count: 3)
                try await Pause.for(.milliseconds(1100))
                let middle = Date()
                try await Pause.for(.milliseconds(1100))
                // After it: another push of the free tenant's, and an audit event.
                try await Self.push(client, freeHook, seed: 404)
                _ = try await Runtime.waitForJobs(client, free, status: "succeeded", count: 6)
                _ = try await client.createKey(token: free.token, scopes: ["jobs:read"])

                let ids = [free, team].map { TenantID(string: $0.tenantID)! }
                let (freeID, teamID) = (ids[0], ids[1])
                let before = try await Self.census(database, ids, middle: middle)
                let freeUsage = try await client.send(.get, "/v1/usage", token: free.token).jsonObject()["items"]
                let teamUsage = try await client.send(.get, "/v1/usage", token: team.token).jsonObject()["items"]
                let analysesBefore = try await Runtime.analyses(client, free).count
                #expect(before[freeID]!.usage.early > 0 && before[freeID]!.usage.late > 0)
                #expect(before[teamID]!.usage.early > 0)
                #expect(before[freeID]!.audit.early > 0 && before[freeID]!.audit.late == 1)

                let pruner = RetentionPruner(database: database, policy: Self.policy, batchSize: 2)
                func prune(days: Double) async throws -> RetentionPruner.Pruned {
                    try await pruner.prune(now: middle.addingTimeInterval(days * 86_400), only: Set(ids))
                }

                // A week on: the free tenant's early detail goes, but not the delivery whose jobs are open.
                var expected = RetentionPruner.Pruned()
                expected.jobs = 3
                expected.deliveries = 1
                expected.usageRecords = before[freeID]!.usage.early
                #expect(try await prune(days: 7) == expected)
                var now = try await Self.census(database, ids, middle: middle)
                #expect(now[freeID]!.deliveries == .init(early: 1, late: 1))
                #expect(now[freeID]!.jobs == .init(early: 3, late: 3))
                #expect(now[freeID]!.usage == .init(early: 0, late: before[freeID]!.usage.late))
                #expect(now[teamID]! == before[teamID]!, "the team plan keeps 30 days")
                #expect(try await prune(days: 7) == RetentionPruner.Pruned(), "a second pass finds nothing")

                // A month on: the team tenant's early detail and the free tenant's later detail.
                expected = RetentionPruner.Pruned()
                expected.jobs = 6
                expected.deliveries = 2
                expected.usageRecords = before[freeID]!.usage.late + before[teamID]!.usage.early
                #expect(try await prune(days: 30) == expected)
                now = try await Self.census(database, ids, middle: middle)
                #expect(now[freeID]!.deliveries == .init(early: 1, late: 0))
                #expect(now[freeID]!.jobs == .init(early: 3, late: 0))
                #expect(now[teamID]!.jobs == .init(early: 0, late: 0))
                #expect(now[freeID]!.audit == before[freeID]!.audit && now[teamID]!.audit == before[teamID]!.audit)

                // Two months on: the free tenant's audit events from before the middle, nothing else.
                expected = RetentionPruner.Pruned()
                expected.auditEvents = before[freeID]!.audit.early
                #expect(try await prune(days: 60) == expected)
                // Three months on: the rest of the free tenant's audit events and the team tenant's.
                expected.auditEvents = before[freeID]!.audit.late + before[teamID]!.audit.early
                #expect(try await prune(days: 90) == expected)
                // Ten years on, the queued jobs and their delivery are still there.
                #expect(try await prune(days: 3650) == RetentionPruner.Pruned())
                now = try await Self.census(database, ids, middle: middle)
                #expect(now[freeID]!.jobs == .init(early: 3, late: 0))
                #expect(now[freeID]!.deliveries == .init(early: 1, late: 0))
                #expect(now[freeID]!.usage == .init(early: 0, late: 0))

                // Usage by day, the reconciliation and the analyses answer as before.
                let freeAfter = try await client.send(.get, "/v1/usage", token: free.token).jsonObject()["items"]
                let teamAfter = try await client.send(.get, "/v1/usage", token: team.token).jsonObject()["items"]
                #expect(NSArray(array: freeAfter as? [Any] ?? []).isEqual(to: freeUsage as? [Any] ?? [1]))
                #expect(NSArray(array: teamAfter as? [Any] ?? []).isEqual(to: teamUsage as? [Any] ?? [1]))
                #expect(try await Runtime.analyses(client, free).count == analysesBefore)
                for id in ids {
                    let discrepancies = try await database.withTenant(id) {
                        try await UsageLedger().discrepancies(in: $0)
                    }
                    #expect(discrepancies.isEmpty)
                }
                let jobs = try await client.send(.get, "/v1/jobs?limit=100", token: free.token).jsonObject()
                #expect((jobs["items"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "queued" } == true)
            }
        }
    }

    @Test func aBatchOutsideItsBoundsIsRefused() async throws {
        try await TestEnvironment.withDatabase { pool in
            let database = Database(client: pool, logger: TestEnvironment.logger)
            for batch in [0, -1, 10_001] {
                await #expect(throws: PSQLError.self) {
                    // The error arrives with the rows.
                    for try await _ in try await database.query(
                        "SELECT * FROM retention_prune(\(UUID()), now(), now(), \(batch)::integer)")
                    {}
                }
            }
        }
    }

    /// The application role naming cutoffs ten years ahead prunes nothing under a day old: its audit log
    /// is safe from a compromised application role (only the owner may prune as of another moment).
    @Test func theApplicationRoleCannotPruneWhatIsUnderADayOld() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            _ = try await client.createKey(token: tenant.token, scopes: ["tenant:read"])
            let id = try #require(TenantID(string: tenant.tenantID)).rawValue
            let pruned = try await TestEnvironment.withDatabase { pool in
                var audit: [Int32] = []
                let rows = try await Database(client: pool, logger: TestEnvironment.logger).query(
                    """
                    SELECT audit_events FROM retention_prune(
                        \(id), now() + interval '10 years', now() + interval '10 years', 100)
                    """)
                for try await count in rows.decode(Int32.self) { audit.append(count) }
                return audit
            }
            #expect(pruned.allSatisfy { $0 == 0 }, "\(pruned)")
            let events = try await client.send(.get, "/v1/audit-log?limit=100", token: tenant.token).jsonObject()
            #expect((events["items"] as? [[String: Any]])?.count ?? 0 >= 2, "the audit events are all there")
        }
    }

    static func push(_ client: any TestClientProtocol, _ endpoint: CreatedEndpoint, seed: Int) async throws {
        let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: seed))
        let response = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
        #expect(response.status == .ok || response.status == .accepted, "\(String(buffer: response.body))")
    }

    /// Rows before and after a moment.
    struct Split: Equatable {
        var early = 0
        var late = 0
    }

    /// What a tenant holds, split at `middle`.
    struct Census: Equatable {
        var deliveries = Split()
        var jobs = Split()
        var usage = Split()
        var audit = Split()
    }

    static func census(_ database: Database, _ tenants: [TenantID], middle: Date) async throws -> [TenantID: Census] {
        var result: [TenantID: Census] = [:]
        for tenant in tenants {
            result[tenant] = try await database.withTenant(tenant) { transaction in
                func split(_ table: String, _ column: String) async throws -> Split {
                    let rows = try await transaction.query(
                        """
                        SELECT count(*) FILTER (WHERE \(unescaped: column) < \(middle))::integer,
                               count(*) FILTER (WHERE \(unescaped: column) >= \(middle))::integer
                        FROM \(unescaped: table)
                        """)
                    var split = Split()
                    for try await (early, late) in rows.decode((Int32, Int32).self) {
                        split = Split(early: Int(early), late: Int(late))
                    }
                    return split
                }
                return Census(
                    deliveries: try await split("webhook_deliveries", "received_at"),
                    jobs: try await split("jobs", "created_at"), usage: try await split("usage_records", "occurred_at"),
                    audit: try await split("audit_events", "occurred_at"))
            }
        }
        return result
    }
}
