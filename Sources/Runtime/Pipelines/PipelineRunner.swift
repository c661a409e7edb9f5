import Billing
import Foundation
import Gateway
import Jobs
import Logging
import Persistence
import Providers
import Webhooks

/// Runs one job's pipeline over the commits of its push. Each step asks the tenant's policy for its task
/// kind through the gateway (budget, ledger, fallbacks), asks for JSON of a schema and checks what comes
/// back; a malformed answer is asked once more, then fails the job with the reason. Each commit's
/// analysis is stored as soon as it is made, once per (pipeline, repository, commit), so a job run twice
/// asks nothing twice and bills once.
public struct PipelineRunner: Sendable {
    let database: Database
    let gateway: LLMGateway
    let store = AnalysisStore()
    let logger: Logger
    /// Completion tokens a step may use.
    static let stepTokens = 1024

    public init(database: Database, gateway: LLMGateway, logger: Logger) {
        self.database = database
        self.gateway = gateway
        self.logger = logger
    }

    /// How the attempt ended; thrown errors are infrastructure failures (worth a retry).
    public func run(_ job: ClaimedJob, backoff: Duration) async throws -> JobOutcome {
        let commits: [PushCommit]
        do {
            commits = try PushCommit.commits(inDeliveryBody: job.body)
        } catch let error as MalformedPayload {
            return .failed(error.reason)
        }
        guard let repository = job.repository else { return .failed("The delivery names no repository.") }
        let context = try await JobContext.read(
            tenant: job.tenantID, pipeline: job.pipeline, repository: repository, commits: commits,
            messages: job.pipeline == .commitments ? commits.map { CommitMessage($0.message) } : [], on: database)
        let step = Step(
            runner: self, job: job, repository: repository, handles: context.handles,
            nearDistance: context.policy.nearDuplicateDistance)
        do {
            switch job.pipeline {
            case .commitments:
                var remembered = context.remembered
                for commit in commits where context.existing[commit.sha] == nil {
                    try await step.commitments(commit, remembered: &remembered)
                }
            case .securityReview:
                for commit in commits where context.existing[commit.sha] == nil {
                    try await step.securityReview(commit)
                }
            case .changeSummary:
                try await step.changeSummary(commits, existing: context.existing)
            }
            return .succeeded
        } catch let error as MalformedAnswer {
            return .failed("The model's answer did not fit its schema twice: \(error.reason).")
        } catch let error as GatewayError {
            switch error {
            case .modelNotAllowed, .providerRejected:
                return .failed("The provider refused the step: \(error).")
            case .hourlyLimit, .providersFailed:
                return .retry("\(error)", backoff: backoff)
            }
        } catch let error as BudgetExhausted {
            return .retry("The token budget is exhausted until \(error.resetsAt).", backoff: backoff)
        }
    }

    /// One call of a step: the answer's object and what it cost, a malformed answer asked once more.
    func ask(_ schema: PipelineSchema, kind: TaskKind, input: [String: Any], job: ClaimedJob) async throws
        -> (object: [String: Any], answer: LLMAnswer, usage: TokenUsage)
    {
        var spent = TokenUsage(promptTokens: 0, completionTokens: 0, reasoningTokens: 0)
        var lastError = MalformedAnswer(reason: "no answer")
        for _ in 1...2 {
            let answer = try await gateway.complete(
                LLMCall(
                    tenantID: job.tenantID, kind: kind, model: nil,
                    messages: [
                        ChatMessage(role: .system, content: schema.systemPrompt),
                        ChatMessage(role: .user, content: PipelineAnswer.json(input)),
                    ], maxTokens: Self.stepTokens, requestID: "job-\(job.jobID.uuidString.lowercased())",
                    jobID: job.jobID, repository: job.repository))
            spent = TokenUsage(
                promptTokens: spent.promptTokens + answer.result.usage.promptTokens,
                completionTokens: spent.completionTokens + answer.result.usage.completionTokens,
                reasoningTokens: spent.reasoningTokens + answer.result.usage.reasoningTokens)
            do {
                return (try PipelineAnswer.object(answer.result.content), answer, spent)
            } catch let error as MalformedAnswer {
                lastError = error
            }
        }
        throw lastError
    }

    /// Stores an analysis and, when given, the checked answer to remember for its commit message, in
    /// one commit.
    func save(
        _ analysis: AnalysisRecord, tenant: TenantID,
        remembering message: (CommitMessage, output: String)? = nil
    ) async throws {
        try await store.save(analysis, tenant: tenant, remembering: message, on: database)
    }
}

/// The steps of one job, with what they share.
struct Step: Sendable {
    let runner: PipelineRunner
    let job: ClaimedJob
    let repository: String
    let handles: [String: String]
    /// The policy's near-duplicate distance for reusing a commit message's result; nil when off.
    let nearDistance: Int?

    func analysis(
        _ commit: PushCommit, output: [String: Any], provider: String, model: String, usage: TokenUsage,
        reused: Bool = false
    ) -> AnalysisRecord {
        AnalysisRecord(
            jobID: job.jobID, deliveryID: job.deliveryID, pipeline: job.pipeline, repository: repository,
            sha: commit.sha, authorName: commit.authorName, authorEmail: commit.authorEmail,
            authorHandle: commit.authorEmail.flatMap { handles[$0.lowercased()] },
            committedAt: commit.timestamp.flatMap { try? Date($0, strategy: .iso8601) },
            output: PipelineAnswer.json(output), provider: provider, model: model, promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens + usage.reasoningTokens, totalTokens: usage.totalTokens,
            reused: reused, subject: Self.subject(of: commit.message))
    }

    /// The message's first line, at most 250 Unicode scalars (so at most 1,000 bytes).
    static func subject(of message: String) -> String {
        let line = message.split(separator: "\n", maxSplits: 1).first ?? ""
        return String(String.UnicodeScalarView(line.unicodeScalars.prefix(250)))
    }

    static func input(_ commit: PushCommit, repository: String) -> [String: Any] {
        [
            "repository": repository, "sha": commit.sha, "message": String(commit.message.prefix(8000)),
            "timestamp": commit.timestamp ?? "", "author": commit.authorName ?? "",
            "added": Array(commit.added.prefix(200)), "modified": Array(commit.modified.prefix(200)),
            "removed": Array(commit.removed.prefix(200)),
        ]
    }
}
