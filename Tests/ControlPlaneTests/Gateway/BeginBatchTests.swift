import ControlPlane
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import Testing

/// `llm_call_begin_batch`, the group commit of a tenant's concurrent gateway calls: each call decided as
/// `llm_call_begin` would alone, in the order given, seeing the reservations before it; the transaction
/// stays durable when any call reserved; a call that fails takes the batch with it, and nothing is kept
/// (the replica then begins each call alone: `TenantBatcherTests`).
@Suite(.timeLimit(.minutes(2))) struct BeginBatchTests {
    /// One call of a batch: its outcome and the tokens reserved.
    struct Answer: Equatable {
        let outcome: String
        let tokens: Int64
    }

    /// Runs a batch of calls for `tenant` with the plan as the database has it now; `version` overrides
    /// the policy version (stale), `hourSeconds` the window (1e300 makes the hourly counter fail).
    static func batch(
        _ tenant: TenantID, tokens: [Int64], version: [Int32?], hourSeconds: [Double]
    ) async throws -> (answers: [Answer], synchronousCommit: String, reserved: Int64) {
        try await TestEnvironment.withTenantTransaction(tenant.description, owner: false) { transaction in
            let current = try await transaction.query(
                """
                SELECT (SELECT COALESCE(max(version), 0) FROM llm_policies),
                       (SELECT digest FROM llm_credentials_digest(\(tenant.rawValue)))
                """
            ).collect().first.map { try $0.decode((Int32, String).self) }
            let (policyVersion, digest) = try #require(current)
            let count = tokens.count
            let rows = try await transaction.query(
                """
                SELECT ordinal, outcome, tokens FROM llm_call_begin_batch(
                    \(Array(repeating: tenant.rawValue, count: count)), \(version.map { $0 ?? policyVersion }),
                    \(Array(repeating: digest, count: count)),
                    \(Array(repeating: ByteBuffer(bytes: [0, 1]), count: count)), \(hourSeconds),
                    \(Array(repeating: Int32(1_000_000), count: count)), \(Array(repeating: Int32(-1), count: count)),
                    \((0..<count).map { _ in UUID() }), \(tokens), \(tokens), \(tokens),
                    \(Array(repeating: Int32(60), count: count)))
                ORDER BY ordinal
                """)
            var answers: [Answer] = []
            for try await (_, outcome, reserved) in rows.decode((Int, String, Int64).self) {
                answers.append(Answer(outcome: outcome, tokens: reserved))
            }
            var setting = ""
            for try await value in try await transaction.query("SHOW synchronous_commit").decode(String.self) {
                setting = value
            }
            var held: Int64 = 0
            // The batch leaves no tenant set behind it: the test's own scope again.
            try await transaction.query("SELECT set_config('app.tenant_id', \(tenant.description), true)")
            for try await value in try await transaction.query(
                "SELECT COALESCE(sum(tokens), 0)::bigint FROM budget_reservations"
            ).decode(Int64.self) {
                held = value
            }
            return (answers, setting, held)
        }
    }

    @Test func eachCallIsDecidedInOrderAndAFailedOneKeepsNothing() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")], tokenLimit: 2_500)
            let id = try #require(TenantID(string: tenant.tenantID))
            let result = try await Self.batch(
                id, tokens: [1_000, 1_000, 1_000, 1_000], version: [nil, nil, 999, nil],
                hourSeconds: [3600, 3600, 3600, 3600])
            #expect(
                result.answers == [
                    Answer(outcome: "granted", tokens: 1_000),
                    Answer(outcome: "granted", tokens: 1_000),
                    Answer(outcome: "stale", tokens: 0),
                    // 500 left after the two before it: refused, as it would have been alone.
                    Answer(outcome: "exhausted", tokens: 0),
                ])
            #expect(result.reserved == 2_000)
            // The stale call turned synchronous commit off for its transaction; the batch turned it back on.
            #expect(result.synchronousCommit == "on")

            // A window of 1e300 seconds makes the hourly counter fail: the batch fails and keeps nothing.
            await #expect(throws: PSQLError.self) {
                _ = try await Self.batch(
                    id, tokens: [100, 100], version: [nil, nil], hourSeconds: [3600, 1e300])
            }
            let held = try await Self.batch(id, tokens: [], version: [], hourSeconds: [])
            #expect(held.reserved == 2_000)
        }
    }

    @Test func aBatchThatReservedNothingCommitsAsACounterWould() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")])
            let id = try #require(TenantID(string: tenant.tenantID))
            let result = try await Self.batch(id, tokens: [10, 10], version: [999, 998], hourSeconds: [3600, 3600])
            #expect(result.answers.map(\.outcome) == ["stale", "stale"])
            #expect(result.synchronousCommit == "off")
            #expect(result.reserved == 0)
        }
    }
}
