import Foundation
import Gateway
import Jobs
import Persistence
import PostgresNIO
import Providers
import TestKit
import Testing
import Webhooks

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
            let unknown = CommitMessage("Something never said")
            try await database.withTenant(tenantID) { try await Self.fill($0) }
            try await store.save(
                Self.analysis(sha: "sha-remembered"), tenant: tenantID,
                remembering: (known, output: #"{"commitments": []}"#), on: database)
            try await database.withTenant(tenantID) { transaction in
                let found = try await store.existing(
                    .commitments, repository: "Acme/API", shas: ["sha-7", "sha-unknown"], in: transaction)
                #expect(Array(found.keys) == ["sha-7"])
                #expect(found["sha-7"]?.output == #"{"n": 7}"#)
                let query = AnalysisStore.existingQuery(
                    .commitments, repository: "acme/api", shas: ["sha-7", "sha-unknown"])
                #expect(try await Self.rowsRead(query, in: transaction) <= 20)
                let remembered = AnalysisStore.rememberedQuery(
                    .commitments, digests: [known.digestHex, unknown.digestHex])
                #expect(try await Self.rowsRead(remembered, in: transaction) <= 20)
            }
        }
    }

    /// What a job reads before its first step comes back in one round trip, each part under its tenant:
    /// another tenant's analyses, remembered messages, people and policy are not in it.
    @Test func aJobsContextIsReadInOneStatement() async throws {
        try await TestDatabase.with { database in
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "context")
            let otherID = try await TestDatabase.tenant(in: database, prefix: "context-other")
            let known = CommitMessage("Add the retry queue")
            let unknown = CommitMessage("Something never said")
            for tenant in [tenantID, otherID] {
                try await store.save(
                    Self.analysis(sha: "sha-\(tenant == tenantID ? "mine" : "theirs")"), tenant: tenant,
                    remembering: (tenant == tenantID ? known : unknown, output: #"{"commitments": []}"#),
                    on: database)
            }
            var policy = LLMPolicy.standard
            policy.nearDuplicates = LLMPolicy.NearDuplicates(enabled: true, maxDistance: 5)
            try await database.withTenant(otherID) { transaction in
                _ = try await PolicyRepository().append(policy, createdBy: "test", in: transaction)
                try await transaction.query(
                    "INSERT INTO identities (tenant_id, email, chat_handle) VALUES (\(otherID.rawValue), 'bo@acme.test', '@bo')"
                )
            }
            try await database.withTenant(tenantID) { transaction in
                try await transaction.query(
                    """
                    INSERT INTO identities (tenant_id, email, git_emails, chat_handle)
                    VALUES (\(tenantID.rawValue), 'ada@acme.test', '{Ada.L@Home.test}', '@ada')
                    """)
            }
            let commits = ["sha-mine", "sha-theirs", "sha-new"].map { sha in
                PushCommit(
                    sha: sha, message: "m", timestamp: nil, authorName: nil,
                    authorEmail: sha == "sha-new" ? "ada.l@home.TEST" : "bo@acme.test")
            }
            let mine = try await JobContext.read(
                tenant: tenantID, pipeline: .commitments, repository: "Acme/API", commits: commits,
                messages: [known, unknown], on: database)
            #expect(mine.existing == ["sha-mine": #"{"n": 0}"#])
            #expect(Array(mine.remembered.keys) == [known.digestHex])
            #expect(mine.remembered[known.digestHex]?.provider == "mock")
            #expect(mine.handles == ["ada.l@home.test": "@ada"])
            #expect(mine.policy == .standard)
            let theirs = try await JobContext.read(
                tenant: otherID, pipeline: .commitments, repository: "acme/api", commits: commits, messages: [],
                on: database)
            #expect(theirs.existing == ["sha-theirs": #"{"n": 0}"#])
            #expect(theirs.remembered.isEmpty)
            #expect(theirs.handles == ["bo@acme.test": "@bo"])
            #expect(theirs.policy.nearDuplicateDistance == 5)
            let other = try await JobContext.read(
                tenant: tenantID, pipeline: .securityReview, repository: "acme/api", commits: commits,
                messages: [known], on: database)
            #expect(other.existing.isEmpty)
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

    /// An analysis of `sha` in `acme/api` by `commitments`, its output `{"n": 0}`.
    static func analysis(sha: String) -> AnalysisRecord {
        AnalysisRecord(
            jobID: UUID(), deliveryID: UUID(), pipeline: .commitments, repository: "acme/api", sha: sha,
            authorName: nil, authorEmail: nil, authorHandle: nil, committedAt: nil, output: #"{"n": 0}"#,
            provider: "mock", model: "m", promptTokens: 1, completionTokens: 1, totalTokens: 2, reused: false)
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
