import Foundation
import Gateway
import Persistence
import Providers

/// Whom an intervention's message is for.
enum InterventionAudience: String, Sendable {
    case owner
    case manager
}

/// Writes an intervention's message through the LLM gateway: task kind `intervention`, so the tenant's
/// policy picks the model and the budget and ledger count it like any other call. A malformed answer is
/// asked once more.
struct InterventionWriter: Sendable {
    let gateway: LLMGateway
    static let maxTokens = 300

    struct Written: Sendable {
        let message: String
        let provider: String
        let model: String
        let totalTokens: Int64
    }

    func write(
        _ row: DueCommitment, audience: InterventionAudience, tone: String, recipient: String?, tenantID: TenantID
    ) async throws -> Written {
        let input: [String: Any] = [
            "audience": audience.rawValue, "tone": tone, "commitment": row.commitment, "repository": row.repository,
            "sha": row.sha, "due_date": row.dueDate, "owner": row.authorEmail ?? "the author",
            "recipient": recipient ?? "",
        ]
        var tokens: Int64 = 0
        var failure = MalformedAnswer(reason: "no answer")
        for _ in 1...2 {
            let answer = try await gateway.complete(
                LLMCall(
                    tenantID: tenantID, kind: .intervention, model: nil,
                    messages: [
                        ChatMessage(role: .system, content: PipelineSchema.intervention.systemPrompt),
                        ChatMessage(role: .user, content: PipelineAnswer.json(input)),
                    ], maxTokens: Self.maxTokens, requestID: "intervention-\(row.id.uuidString.lowercased())",
                    repository: row.repository))
            tokens += answer.result.usage.totalTokens
            do {
                let object = try PipelineAnswer.object(answer.result.content)
                guard let message = try PipelineAnswer.string(object, "message", maxLength: 2000), !message.isEmpty
                else { throw MalformedAnswer(reason: "`message` is empty") }
                return Written(
                    message: message, provider: answer.provider.rawValue, model: answer.model, totalTokens: tokens)
            } catch let error as MalformedAnswer {
                failure = error
            }
        }
        throw failure
    }
}
