import Gateway
import Jobs
import Persistence
import PostgresNIO
import Webhooks

/// What a job reads of its tenant before its first step, in one round trip (`pipeline_job_context`; it
/// was a transaction of seven: `BEGIN`, scope, four reads, `COMMIT`).
public struct JobContext: Sendable {
    /// The results its pipeline already stored for the push's commits (JSON text), by sha.
    public let existing: [String: String]
    /// Chat handles of the push's authors, by lowercased git email.
    public let handles: [String: String]
    /// The tenant's current policy (the standard policy when it has stored none).
    public let policy: LLMPolicy
    /// The results remembered for the push's commit messages, by the hex of their digest.
    public let remembered: [String: AnalysisStore.Remembered]

    /// Reads the context of a job of `pipeline` over `commits` of `repository` for `tenant`; remembered
    /// results are looked up only for `messages`.
    public static func read(
        tenant: TenantID, pipeline: Pipeline, repository: String, commits: [PushCommit], messages: [CommitMessage],
        on database: Database
    ) async throws -> JobContext {
        let rows = try await database.execute(
            JobContextStatement(
                tenantID: tenant, pipeline: pipeline.rawValue, repository: repository, shas: commits.map(\.sha),
                emails: Array(Set(commits.compactMap { $0.authorEmail?.lowercased() })),
                digests: Array(Set(messages.map(\.digestHex)))),
            for: tenant)
        var existing: [String: String] = [:]
        var handles: [String: String] = [:]
        var policy = LLMPolicy.standard
        var remembered: [String: AnalysisStore.Remembered] = [:]
        for row in rows {
            switch (row.kind, row.key, row.value) {
            case ("analysis", let sha?, let output?):
                existing[sha] = output
            case ("handle", let address?, let handle?):
                handles[address] = handle
            case ("policy", _, let document?):
                policy = try PolicyRepository.decode(document)
            case ("remembered", let hex?, let output?):
                remembered[hex] = AnalysisStore.Remembered(
                    output: output, provider: row.provider ?? "", model: row.model ?? "")
            default:
                continue
            }
        }
        return JobContext(existing: existing, handles: handles, policy: policy, remembered: remembered)
    }
}

private struct JobContextRow {
    let kind: String
    let key: String?
    let value: String?
    let provider: String?
    let model: String?
}

/// `pipeline_job_context`, prepared once per connection.
private struct JobContextStatement: PostgresPreparedStatement {
    static let sql = "SELECT kind, key, value, provider, model FROM pipeline_job_context($1, $2, $3, $4, $5, $6)"
    typealias Row = JobContextRow
    let tenantID: TenantID
    let pipeline: String
    let repository: String
    let shas: [String]
    let emails: [String]
    let digests: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(tenantID.rawValue)
        bindings.append(pipeline)
        bindings.append(repository)
        bindings.append(shas)
        bindings.append(emails)
        bindings.append(digests)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (kind, key, value, provider, model) = try row.decode((String, String?, String?, String?, String?).self)
        return JobContextRow(kind: kind, key: key, value: value, provider: provider, model: model)
    }
}
