import Foundation

/// The `mock` provider: no network, and the same answer and token counts for the same request every
/// time, so everything works offline and tests can predict what is billed. Prompt tokens are one per
/// four bytes of text plus four per message; completion tokens one per four bytes of the answer, which
/// is cut at `maxTokens` (finish reason `length`).
public struct MockProvider: LLMProvider {
    public let kind = ProviderKind.mock

    public init() {}

    public func complete(_ request: ChatRequest) async throws -> ChatResult {
        let (text, reason, usage) = Self.answer(request)
        return ChatResult(
            id: "mock-\(Self.digest(request))", model: request.model, content: text, finishReason: reason, usage: usage)
    }

    public func stream(_ request: ChatRequest) async throws -> ChatEventStream {
        let (text, reason, usage) = Self.answer(request)
        var events: [ChatStreamEvent] = []
        var word = ""
        for character in text {
            word.append(character)
            if character == " " {
                events.append(.delta(word))
                word = ""
            }
        }
        if !word.isEmpty { events.append(.delta(word)) }
        events += [.finish(reason), .usage(usage)]
        return .of(events)
    }

    static func answer(_ request: ChatRequest) -> (String, String, TokenUsage) {
        let said = request.messages.last { $0.role == .user }?.content ?? ""
        let system = request.messages.first { $0.role == .system }?.content ?? ""
        var text =
            MockAnalyst.answer(system: system, user: said)
            ?? "Mock answer from \(request.model) (\(digest(request))). You said: \(said.prefix(200))"
        var reason = "stop"
        let budget = max(0, request.maxTokens) * 4
        if text.utf8.count > budget {
            text = String(decoding: Array(text.utf8.prefix(budget)), as: UTF8.self)
            reason = "length"
        }
        let prompt = request.messages.reduce(0) { $0 + $1.content.utf8.count } / 4 + 4 * request.messages.count
        let completion = min((text.utf8.count + 3) / 4, max(0, request.maxTokens))
        return (
            text, reason,
            TokenUsage(promptTokens: Int64(prompt), completionTokens: Int64(completion), reasoningTokens: 0)
        )
    }

    /// A short stable digest of the request (FNV-1a over the model and messages).
    static func digest(_ request: ChatRequest) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in request.model.utf8
            + request.messages.flatMap({ Array($0.role.rawValue.utf8) + Array($0.content.utf8) })
        {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
