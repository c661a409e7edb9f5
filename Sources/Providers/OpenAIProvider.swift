import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// OpenAI's chat completions API, which `groq` and `openai_compatible` servers speak too: `usage` with
/// `completionTokensDetails.reasoningTokens`, streams of `chat.completion.chunk` ending with a usage
/// chunk (`stream_options.include_usage`; Groq also puts it under `xGroq`).
public struct OpenAIProvider: LLMProvider {
    public let kind: ProviderKind
    let baseURL: String
    let apiKey: String
    let transport: ProviderTransport

    public init(kind: ProviderKind, baseURL: String, apiKey: String, transport: ProviderTransport) {
        self.kind = kind
        self.baseURL = ProviderTransport.trimmed(baseURL)
        self.apiKey = apiKey
        self.transport = transport
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResult {
        let bytes = try await transport.post(
            "\(baseURL)/chat/completions", headers: headers, body: try body(request, stream: false), request: request,
            provider: kind, classify: classify)
        guard let answer = try? ProviderTransport.snakeCaseDecoder.decode(Completion.self, from: Data(buffer: bytes))
        else {
            throw ProviderError(.invalidResponse, provider: kind, message: "the completion could not be decoded")
        }
        guard let usage = answer.usage?.tokenUsage else {
            throw ProviderError(.invalidResponse, provider: kind, message: "the completion reported no usage")
        }
        let choice = answer.choices?.first
        return ChatResult(
            id: answer.id ?? "", model: answer.model ?? request.model, content: choice?.message?.content ?? "",
            finishReason: choice?.finishReason ?? "stop", usage: usage)
    }

    public func stream(_ request: ChatRequest) async throws -> ChatEventStream {
        try await transport.stream(
            "\(baseURL)/chat/completions", headers: headers, body: try body(request, stream: true), request: request,
            provider: kind, decoder: StreamDecoder(kind: kind), classify: classify)
    }

    /// `chat.completion.chunk` events, the usage chunk, then `[DONE]`.
    struct StreamDecoder: ProviderStreamDecoder {
        let kind: ProviderKind
        var billed: TokenUsage?
        var done = false

        init(kind: ProviderKind) { self.kind = kind }

        mutating func decode(_ event: ServerSentEvents.Event) throws -> [ChatStreamEvent] {
            if event.data == "[DONE]" {
                done = true
                return []
            }
            guard let data = event.data.data(using: .utf8),
                let piece = try? ProviderTransport.snakeCaseDecoder.decode(Chunk.self, from: data)
            else { return [] }
            if let error = piece.error {
                throw ProviderError(
                    .server, provider: kind, message: error.message ?? "the stream reported an error", billed: billed)
            }
            var out: [ChatStreamEvent] = []
            for choice in piece.choices ?? [] {
                if let text = choice.delta?.content, !text.isEmpty { out.append(.delta(text)) }
                if let reason = choice.finishReason { out.append(.finish(reason)) }
            }
            if let reported = (piece.usage ?? piece.xGroq?.usage)?.tokenUsage { billed = reported }
            return out
        }

        func end() throws -> [ChatStreamEvent] {
            guard let billed else {
                throw ProviderError(.network, provider: kind, message: "the stream ended before its usage", billed: nil)
            }
            return [.usage(billed)]
        }
    }

    private var headers: [(String, String)] {
        apiKey.isEmpty ? [] : [("Authorization", "Bearer \(apiKey)")]
    }

    private func body(_ request: ChatRequest, stream: Bool) throws -> Data {
        var object: [String: Any] = [
            "model": request.model,
            "messages": request.messages.map { ["role": $0.role.rawValue, "content": $0.content] },
            "max_tokens": request.maxTokens,
        ]
        if let temperature = request.temperature { object["temperature"] = temperature }
        if let topP = request.topP { object["top_p"] = topP }
        if !request.stop.isEmpty { object["stop"] = request.stop }
        if stream {
            object["stream"] = true
            object["stream_options"] = ["include_usage": true]
        }
        return try JSONSerialization.data(withJSONObject: object)
    }

    private func classify(_ status: Int, _ headers: HTTPHeaders, _ body: ByteBuffer) -> ProviderError {
        let error = (try? ProviderTransport.snakeCaseDecoder.decode(ErrorEnvelope.self, from: Data(buffer: body)))?
            .error
        let message = String((error?.message ?? "HTTP \(status)").prefix(300))
        let code = [error?.code, error?.type].compactMap { $0 }.joined(separator: " ")
        if code.contains("insufficient_quota") || code.contains("billing") {
            return ProviderError(.spendCap, provider: kind, status: status, message: message)
        }
        if code.contains("context_length_exceeded") || code.contains("request_too_large") {
            return ProviderError(.requestTooLarge, provider: kind, status: status, message: message)
        }
        return ProviderTransport.classify(status: status, headers: headers, message: message, provider: kind)
    }

    // The wire format, decoded leniently: every field optional.
    struct Usage: Decodable {
        struct Details: Decodable { let reasoningTokens: Int64? }
        let promptTokens: Int64?
        let completionTokens: Int64?
        let totalTokens: Int64?
        let completionTokensDetails: Details?

        /// OpenAI counts reasoning inside `completionTokens`; the ledger keeps it apart.
        var tokenUsage: TokenUsage? {
            guard let prompt = promptTokens, let completion = completionTokens.map(TokenUsage.bounded) else {
                return nil
            }
            let reasoning = min(TokenUsage.bounded(completionTokensDetails?.reasoningTokens), completion)
            return TokenUsage(
                promptTokens: prompt, completionTokens: completion - reasoning, reasoningTokens: reasoning,
                totalTokens: totalTokens)
        }
    }
    struct Completion: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { let content: String? }
            let message: Message?
            let finishReason: String?
        }
        let id: String?
        let model: String?
        let choices: [Choice]?
        let usage: Usage?
    }
    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { let content: String? }
            let delta: Delta?
            let finishReason: String?
        }
        struct Groq: Decodable { let usage: Usage? }
        struct StreamError: Decodable { let message: String? }
        let choices: [Choice]?
        let usage: Usage?
        let xGroq: Groq?
        let error: StreamError?
    }
    struct ErrorEnvelope: Decodable {
        struct Body: Decodable {
            let message: String?
            let type: String?
            let code: String?
        }
        let error: Body?
    }
}
