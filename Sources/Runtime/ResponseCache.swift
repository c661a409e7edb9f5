import Crypto
import Foundation
import Providers
import RedisClient
import Tenancy

/// The exact-match response cache of the LLM policy, in Redis under the tenant's own hash-tagged keys
/// (`cp:{tenant}:llm-cache:<sha256>`). A hit answers what the candidate answered before, costs no budget
/// and is recorded as cached. Redis holds nothing Postgres needs: losing the cache only costs calls.
public struct ResponseCache: Sendable {
    struct Entry: Codable {
        let provider: String
        let model: String
        let content: String
        let finishReason: String
        let promptTokens: Int64
        let completionTokens: Int64
        let reasoningTokens: Int64
        let totalTokens: Int64
    }

    let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// The key of one request: its kind, the candidates it may go to, and everything that shapes the answer.
    static func key(tenantID: TenantID, kind: TaskKind, candidates: [LLMPolicy.Candidate], request: ChatRequest)
        -> String
    {
        var hasher = SHA256()
        func add(_ text: String) {
            hasher.update(data: Data(text.utf8))
            hasher.update(data: Data([0]))
        }
        add(kind.rawValue)
        for candidate in candidates { add(candidate.id) }
        add(String(request.maxTokens))
        add(request.temperature.map { String($0) } ?? "-")
        add(request.topP.map { String($0) } ?? "-")
        for stop in request.stop { add(stop) }
        for message in request.messages {
            add(message.role.rawValue)
            add(message.content)
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return "cp:{\(tenantID)}:llm-cache:\(digest)"
    }

    func lookup(_ key: String) async -> (ChatResult, ProviderKind)? {
        guard case .bulk(let bytes)? = try? await redis.command(["GET", key]),
            let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)),
            let provider = ProviderKind(rawValue: entry.provider)
        else { return nil }
        let usage = TokenUsage(
            promptTokens: entry.promptTokens, completionTokens: entry.completionTokens,
            reasoningTokens: entry.reasoningTokens, totalTokens: entry.totalTokens)
        return (
            ChatResult(
                id: "", model: entry.model, content: entry.content, finishReason: entry.finishReason, usage: usage),
            provider
        )
    }

    func store(_ key: String, result: ChatResult, provider: ProviderKind, ttlSeconds: Int) async {
        let entry = Entry(
            provider: provider.rawValue, model: result.model, content: result.content,
            finishReason: result.finishReason, promptTokens: result.usage.promptTokens,
            completionTokens: result.usage.completionTokens, reasoningTokens: result.usage.reasoningTokens,
            totalTokens: result.usage.totalTokens)
        guard let data = try? JSONEncoder().encode(entry) else { return }
        _ = try? await redis.command(["SET", key, String(decoding: data, as: UTF8.self), "EX", String(ttlSeconds)])
    }
}
