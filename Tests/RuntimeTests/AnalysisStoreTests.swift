import Foundation
import Jobs
import Persistence
import PostgresNIO
import Providers
import TestKit
import Testing

@testable import Runtime

/// What a job reads before it runs costs a probe of the key per commit, however many analyses and
/// remembered messages the tenant has, even when the planner's statistics have not seen the tenant (the
/// other suites' tenants fill these tables first). Before, each lookup read every row of the tenant
/// (12,000 rows per job after 12,000 jobs in `bench/runtime.sh`).
@Suite(.timeLimit(.minutes(2))) struct AnalysisStoreTests {
    static let history = 3000
    let store = AnalysisStore()

    @Test func lookupsProbeTheKeyInsteadOfReadingTheTenantsHistory() async throws {
        try await TestDatabase.with { database in
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "history")
            let known = CommitMessage("Add the retry queue")
            try await database.withTenant(tenantID) { transaction in
                try await Self.fill(transaction)
                try await store.remember(
                    .commitments, message: known, output: #"{"commitments": []}"#, provider: "mock", model: "m",
                    in: transaction)
            }
            try await database.withTenant(tenantID) { transaction in
                let found = try await store.existing(
                    .commitments, repository: "Acme/API", shas: ["sha-7", "sha-unknown"], in: transaction)
                #expect(Array(found.keys) == ["sha-7"])
                #expect(found["sha-7"]?.output == #"{"n": 7}"#)
                let query = AnalysisStore.existingQuery(
                    .commitments, repository: "acme/api", shas: ["sha-7", "sha-unknown"])
                #expect(try await Self.rowsRead(query, in: transaction) <= 20)
            }
            try await database.withTenant(tenantID) { transaction in
                let remembered = try await store.rememberedResults(
                    .commitments, messages: [known, CommitMessage("Something never said")], in: transaction)
                #expect(Array(remembered.keys) == [known.digestHex])
                #expect(remembered[known.digestHex]?.provider == "mock")
                let query = AnalysisStore.rememberedQuery(
                    .commitments, digests: [known.digestHex, CommitMessage("Something never said").digestHex])
                #expect(try await Self.rowsRead(query, in: transaction) <= 20)
            }
        }
    }

    @Test func aPushSummaryIsAttachedOnceAndBilledToTheFirstCommit() async throws {
        try await TestDatabase.with { database in
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "summary")
            try await database.withTenant(tenantID) { try await Self.fill($0, pipeline: .changeSummary) }
            let shas = ["sha-12", "sha-11", "sha-unknown"]
            let missing = try await database.withTenant(tenantID) { transaction in
                let query = AnalysisStore.existingQuery(.changeSummary, repository: "acme/api", shas: shas)
                #expect(try await Self.rowsRead(query, in: transaction) <= 20)
                return try await store.withoutSummary(repository: "Acme/API", shas: shas, in: transaction)
            }
            #expect(Set(missing.keys) == ["sha-11", "sha-12"])
            try await database.withTenant(tenantID) { transaction in
                try await store.attachSummary(
                    #"{"push_summary": "2 commits", "impact": "low"}"#, to: missing,
                    usage: TokenUsage(promptTokens: 10, completionTokens: 5, reasoningTokens: 1), in: transaction)
            }
            let tokens = try await database.withTenant(tenantID) { transaction in
                #expect(try await store.withoutSummary(repository: "acme/api", shas: shas, in: transaction).isEmpty)
                var tokens: [String: Int64] = [:]
                let rows = try await transaction.query(
                    "SELECT sha, total_tokens FROM analyses WHERE sha = ANY(\(shas)) AND output ? 'push_summary'")
                for try await (sha, total) in rows.decode((String, Int64).self) { tokens[sha] = total }
                return tokens
            }
            #expect(tokens == ["sha-11": 16, "sha-12": 0])
        }
    }

    /// `history` analyses of `pipeline` in `acme/api` (`sha-1`...) and as many remembered messages.
    static func fill(_ transaction: TenantTransaction, pipeline: Pipeline = .commitments) async throws {
        try await transaction.query(
            """
            INSERT INTO analyses (tenant_id, analysis_id, job_id, delivery_id, pipeline, repository, sha, output,
                                  provider, model)
            SELECT \(transaction.tenantID.rawValue), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
                   \(pipeline.rawValue), 'acme/api', 'sha-' || n, jsonb_build_object('n', n), 'mock', 'm'
            FROM generate_series(1, \(history)) AS n
            """)
        try await transaction.query(
            """
            INSERT INTO message_results (tenant_id, pipeline, message_hash, simhash, output, provider, model)
            SELECT \(transaction.tenantID.rawValue), \(pipeline.rawValue), sha256(n::text::bytea), n, '{}', 'mock', 'm'
            FROM generate_series(1, \(history)) AS n
            """)
    }

    /// The rows Postgres handles to answer `query`: each plan node's rows, those its filters removed
    /// included, times its loops (from `EXPLAIN ANALYZE`, which runs it).
    static func rowsRead(_ query: PostgresQuery, in transaction: TenantTransaction) async throws -> Int {
        let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, binds: query.binds)
        var plan = ""
        for try await text in try await transaction.query(explain).decode(String.self) { plan += text }
        func rows(_ node: [String: Any]) -> Int {
            let own = ["Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter"]
                .reduce(0) { $0 + (node[$1] as? Int ?? 0) }
            let children = (node["Plans"] as? [[String: Any]] ?? []).reduce(0) { $0 + rows($1) }
            return own * (node["Actual Loops"] as? Int ?? 1) + children
        }
        let top = try JSONSerialization.jsonObject(with: Data(plan.utf8)) as? [[String: Any]]
        return rows(try #require(top?.first?["Plan"] as? [String: Any]))
    }
}
