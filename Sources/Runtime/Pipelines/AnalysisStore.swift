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

    /// An analysis already stored for a commit.
    public struct Stored: Sendable, Equatable {
        public let id: UUID
        /// The structured result, as JSON text.
        public let output: String
    }

    /// The analyses already stored for these commits of a repository by a pipeline, by sha: one probe of
    /// the key per commit (`analysis_probe`).
    public func existing(
        _ pipeline: Pipeline, repository: String, shas: [String], in transaction: TenantTransaction
    ) async throws -> [String: Stored] {
        let rows = try await transaction.query(
            Self.existingQuery(pipeline, repository: repository, shas: shas))
        var found: [String: Stored] = [:]
        for try await (sha, id, output) in rows.decode((String, UUID, String).self) {
            found[sha] = Stored(id: id, output: output)
        }
        return found
    }

    static func existingQuery(_ pipeline: Pipeline, repository: String, shas: [String]) -> PostgresQuery {
        "SELECT sha, analysis_id, output FROM analysis_probe(\(pipeline.rawValue), \(repository), \(shas))"
    }

    /// Stores the analysis unless its pipeline has one for that commit (then nothing changes) and, when
    /// given, the checked answer remembered for its commit message: one round trip and one commit
    /// (`analysis_save`).
    public func save(
        _ analysis: AnalysisRecord, tenant: TenantID, remembering message: (CommitMessage, output: String)? = nil,
        on database: Database
    ) async throws {
        _ = try await database.execute(
            AnalysisSaveStatement(tenantID: tenant, analysis: analysis, message: message), for: tenant)
    }

    /// The `change_summary` analyses of these commits that have no push summary yet: their ids, by sha.
    /// Read through `existing`'s probes.
    public func withoutSummary(repository: String, shas: [String], in transaction: TenantTransaction) async throws
        -> [String: UUID]
    {
        try await existing(.changeSummary, repository: repository, shas: shas, in: transaction)
            .filter { _, stored in
                let output = try? JSONSerialization.jsonObject(with: Data(stored.output.utf8)) as? [String: Any]
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

    /// The query of the results remembered for these commit messages (digests in hex): one probe of the
    /// key per message (`message_probe`, which `pipeline_job_context` reads through).
    static func rememberedQuery(_ pipeline: Pipeline, digests: [String]) -> PostgresQuery {
        "SELECT hex, output, provider, model FROM message_probe(\(pipeline.rawValue), \(digests))"
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
