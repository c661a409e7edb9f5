import Foundation
import Jobs
import Persistence
import PostgresNIO
import Providers
import Tenancy

/// One stored analysis: a pipeline's result for one commit.
public struct AnalysisRecord: Sendable, Equatable {
    public let id: UUID
    public let jobID: UUID
    public let deliveryID: UUID
    public let pipeline: Pipeline
    public let repository: String
    public let sha: String
    public let authorName: String?
    public let authorEmail: String?
    public let authorHandle: String?
    public let committedAt: Date?
    /// The structured result, as JSON text.
    public let output: String
    public let provider: String
    public let model: String
    public let promptTokens: Int64
    public let completionTokens: Int64
    public let totalTokens: Int64
    /// Taken from an earlier result for the same commit message, at no cost.
    public let reused: Bool
    public let createdAt: Date
    /// The first line of the commit message (what may close a commitment later); not read back.
    public let subject: String?

    public init(
        id: UUID = UUID(), jobID: UUID, deliveryID: UUID, pipeline: Pipeline, repository: String, sha: String,
        authorName: String?, authorEmail: String?, authorHandle: String?, committedAt: Date?, output: String,
        provider: String, model: String, promptTokens: Int64, completionTokens: Int64, totalTokens: Int64,
        reused: Bool, createdAt: Date = Date(), subject: String? = nil
    ) {
        self.subject = subject
        self.id = id
        self.jobID = jobID
        self.deliveryID = deliveryID
        self.pipeline = pipeline
        self.repository = repository
        self.sha = sha
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.authorHandle = authorHandle
        self.committedAt = committedAt
        self.output = output
        self.provider = provider
        self.model = model
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
        self.reused = reused
        self.createdAt = createdAt
    }
}

/// Analyses, remembered results per commit message and author identities, in tenant transactions.
public struct AnalysisStore: Sendable {
    public init() {}

    private typealias Row = (
        UUID, UUID, UUID, String, String, String, String?, String?, String?, Date?, String, String, String, Int64,
        Int64, Int64, Bool, Date
    )
    private static let columns = """
        analysis_id, job_id, delivery_id, pipeline, repository, sha, author_name, author_email, author_handle, \
        committed_at, output::text, provider, model, prompt_tokens, completion_tokens, total_tokens, reused, created_at
        """
    private static let keyset = KeysetQuery(
        table: "analyses", columns: columns, timeColumn: "created_at", idColumn: "analysis_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func record(_ row: Row) -> AnalysisRecord {
        AnalysisRecord(
            id: row.0, jobID: row.1, deliveryID: row.2, pipeline: Pipeline(rawValue: row.3) ?? .commitments,
            repository: row.4, sha: row.5, authorName: row.6, authorEmail: row.7, authorHandle: row.8,
            committedAt: row.9, output: row.10, provider: row.11, model: row.12, promptTokens: row.13,
            completionTokens: row.14, totalTokens: row.15, reused: row.16, createdAt: row.17)
    }

    /// The analyses already stored for these commits of a repository by a pipeline, by sha.
    ///
    /// Each commit is one probe of the unique key, whatever the statistics say. The probe names the tenant
    /// as the transaction's setting through a subquery, whose value the planner cannot see: it plans for
    /// an average tenant. Given the tenant's id, it looked the id up in its last sample. A tenant that sample
    /// missed (new, or grown since) looked like it had no rows, and any index starting with `tenant_id`
    /// looked as good as the key: the probe then read all the tenant's analyses (12,000 rows per job after
    /// 12,000 jobs in `bench/runtime.sh`). `LIMIT 1` keeps each probe a probe.
    public func existing(
        _ pipeline: Pipeline, repository: String, shas: [String], in transaction: TenantTransaction
    ) async throws -> [String: AnalysisRecord] {
        let rows = try await transaction.query(
            Self.existingQuery(pipeline, repository: repository, shas: shas))
        var found: [String: AnalysisRecord] = [:]
        for try await row in rows.decode(Row.self) { found[row.5] = Self.record(row) }
        return found
    }

    static func existingQuery(_ pipeline: Pipeline, repository: String, shas: [String]) -> PostgresQuery {
        """
        SELECT found.* FROM unnest(\(shas)::text[]) AS wanted (sha)
        CROSS JOIN LATERAL (
            SELECT \(unescaped: Self.columns) FROM analyses
            WHERE tenant_id = (SELECT app_tenant_id()) AND pipeline = \(pipeline.rawValue)
              AND lower(repository) = \(repository.lowercased()) AND sha = wanted.sha
            LIMIT 1
        ) AS found
        """
    }

    /// Stores the analysis unless one exists for its pipeline and commit (then nothing changes).
    public func insert(_ analysis: AnalysisRecord, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            """
            INSERT INTO analyses (tenant_id, analysis_id, job_id, delivery_id, pipeline, repository, sha, author_name,
                                  author_email, author_handle, committed_at, output, provider, model, prompt_tokens,
                                  completion_tokens, total_tokens, reused, subject)
            VALUES (\(transaction.tenantID.rawValue), \(analysis.id), \(analysis.jobID), \(analysis.deliveryID),
                    \(analysis.pipeline.rawValue), \(analysis.repository), \(analysis.sha), \(analysis.authorName),
                    \(analysis.authorEmail), \(analysis.authorHandle), \(analysis.committedAt), \(analysis.output)::jsonb,
                    \(analysis.provider), \(analysis.model), \(analysis.promptTokens), \(analysis.completionTokens),
                    \(analysis.totalTokens), \(analysis.reused), \(analysis.subject))
            ON CONFLICT (tenant_id, pipeline, lower(repository), sha) DO NOTHING
            """)
    }

    /// The `change_summary` analyses of these commits that have no push summary yet: their ids, by sha.
    /// Read through `existing`'s probes.
    public func withoutSummary(repository: String, shas: [String], in transaction: TenantTransaction) async throws
        -> [String: UUID]
    {
        try await existing(.changeSummary, repository: repository, shas: shas, in: transaction)
            .filter { _, analysis in
                let output = try? JSONSerialization.jsonObject(with: Data(analysis.output.utf8)) as? [String: Any]
                return output?["push_summary"] == nil
            }
            .mapValues(\.id)
    }

    /// Adds a push's summary to these `change_summary` analyses (ids by sha, from `withoutSummary`); its
    /// tokens are added to the first commit's, so the analyses add up to what was billed.
    public func attachSummary(
        _ summary: String, to analyses: [String: UUID], usage: TokenUsage, in transaction: TenantTransaction
    ) async throws {
        guard let first = analyses.min(by: { $0.key < $1.key })?.value else { return }
        try await transaction.query(
            """
            UPDATE analyses SET output = output || \(summary)::jsonb,
                prompt_tokens = prompt_tokens + CASE WHEN analysis_id = \(first) THEN \(usage.promptTokens) ELSE 0 END,
                completion_tokens = completion_tokens
                    + CASE WHEN analysis_id = \(first) THEN \(usage.completionTokens + usage.reasoningTokens) ELSE 0 END,
                total_tokens = total_tokens + CASE WHEN analysis_id = \(first) THEN \(usage.totalTokens) ELSE 0 END
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND analysis_id = ANY(\(Array(analyses.values)))
            """)
    }

    /// A result remembered for a normalised commit message.
    public struct Remembered: Sendable {
        public let output: String
        public let provider: String
        public let model: String
    }

    /// The results remembered for these normalised commit messages, by the hex of their digest: one
    /// query for a whole push, one probe of the key per message (as in `existing`).
    public func rememberedResults(
        _ pipeline: Pipeline, messages: [CommitMessage], in transaction: TenantTransaction
    ) async throws -> [String: Remembered] {
        guard !messages.isEmpty else { return [:] }
        let rows = try await transaction.query(
            Self.rememberedQuery(
                pipeline, digests: Array(Set(messages.map(\.digestHex)))))
        var found: [String: Remembered] = [:]
        for try await row in rows.decode((String, String, String, String).self) {
            found[row.0] = Remembered(output: row.1, provider: row.2, model: row.3)
        }
        return found
    }

    static func rememberedQuery(_ pipeline: Pipeline, digests: [String]) -> PostgresQuery {
        """
        SELECT wanted.hex, found.output::text, found.provider, found.model
        FROM unnest(\(digests)::text[]) AS wanted (hex)
        CROSS JOIN LATERAL (
            SELECT output, provider, model FROM message_results
            WHERE tenant_id = (SELECT app_tenant_id()) AND pipeline = \(pipeline.rawValue)
              AND message_hash = decode(wanted.hex, 'hex')
            LIMIT 1
        ) AS found
        """
    }

    /// The result of the closest message among the tenant's latest `nearWindow` whose SimHash is within
    /// `distance` bits of this one, if any.
    public func nearResult(
        _ pipeline: Pipeline, message: CommitMessage, distance: Int, in transaction: TenantTransaction
    ) async throws -> Remembered? {
        let near = try await transaction.query(
            """
            SELECT output::text, provider, model FROM (
                SELECT output, provider, model, simhash FROM message_results
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND pipeline = \(pipeline.rawValue)
                ORDER BY created_at DESC LIMIT \(Self.nearWindow)::integer
            ) AS recent
            WHERE bit_count((simhash # \(message.simhash))::bit(64)) <= \(distance)::integer
            ORDER BY bit_count((simhash # \(message.simhash))::bit(64)) LIMIT 1
            """)
        var found: Remembered?
        for try await row in near.decode((String, String, String).self) {
            found = Remembered(output: row.0, provider: row.1, model: row.2)
        }
        return found
    }

    /// How many of the tenant's latest remembered messages a near-duplicate is looked for among.
    static let nearWindow = 5000

    public func remember(
        _ pipeline: Pipeline, message: CommitMessage, output: String, provider: String, model: String,
        in transaction: TenantTransaction
    ) async throws {
        try await transaction.query(
            """
            INSERT INTO message_results (tenant_id, pipeline, message_hash, simhash, output, provider, model)
            VALUES (\(transaction.tenantID.rawValue), \(pipeline.rawValue), \(Data(message.digest)), \(message.simhash),
                    \(output)::jsonb, \(provider), \(model))
            ON CONFLICT (tenant_id, pipeline, message_hash) DO NOTHING
            """)
    }

    /// Chat handles by git email (lowercased), for the emails that an identity claims.
    public func handles(for emails: [String], in transaction: TenantTransaction) async throws -> [String: String] {
        let lowered = Array(Set(emails.map { $0.lowercased() }))
        guard !lowered.isEmpty else { return [:] }
        let rows = try await transaction.query(
            """
            SELECT e.address, i.chat_handle FROM identities i
            CROSS JOIN LATERAL unnest(array_append(i.git_emails, i.email)) AS e (address)
            WHERE i.tenant_id = \(transaction.tenantID.rawValue) AND i.chat_handle IS NOT NULL
              AND lower(e.address) = ANY(\(lowered))
            """)
        var handles: [String: String] = [:]
        for try await row in rows.decode((String, String).self) { handles[row.0.lowercased()] = row.1 }
        return handles
    }

    // MARK: API

    /// Which analyses a list shows.
    public struct Filter: Sendable {
        public var repository: String?
        public var author: String?
        public var pipeline: Pipeline?
        public var sha: String?

        public init(repository: String? = nil, author: String? = nil, pipeline: Pipeline? = nil, sha: String? = nil) {
            self.repository = repository
            self.author = author
            self.pipeline = pipeline
            self.sha = sha
        }
    }

    public func list(_ filter: Filter, limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction)
        async throws -> Page<AnalysisRecord>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        var filters: [(column: String, value: any PostgresEncodable)] = [("tenant_id", transaction.tenantID.rawValue)]
        if let repository = filter.repository { filters.append(("lower(repository)", repository.lowercased())) }
        if let author = filter.author { filters.append(("lower(author_email)", author.lowercased())) }
        if let pipeline = filter.pipeline { filters.append(("pipeline", pipeline.rawValue)) }
        if let sha = filter.sha { filters.append(("sha", sha.lowercased())) }
        let rows = try await transaction.query(try Self.keyset.page(filters: filters, below: bound, limit: limit))
        var analyses: [AnalysisRecord] = []
        for try await row in rows.decode(Row.self) { analyses.append(Self.record(row)) }
        return Page(fetched: analyses, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> AnalysisRecord? {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM analyses
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND analysis_id = \(id)
            """)
        for try await row in rows.decode(Row.self) { return Self.record(row) }
        return nil
    }
}
