import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Anthropic's Messages API (`/v1/messages`, `anthropic-version: 2023-06-01`): `usage.input_tokens` and
/// `output_tokens` (thinking included), streams of `message_start` / `content_block_delta` /
/// `message_delta` events, and `overloaded_error` (529) treated as a server failure.
public struct AnthropicProvider: LLMProvider {
    public let kind = ProviderKind.anthropic
    let baseURL: String
    let apiKey: String
    let transport: ProviderTransport

    public init(baseURL: String, apiKey: String, transport: ProviderTransport) {
        self.baseURL = ProviderTransport.trimmed(baseURL)
        self.apiKey = apiKey
        self.transport = transport
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResult {
        let bytes = try await transport.post(
            "\(baseURL)/v1/messages", headers: headers, body: try body(request, stream: false), request: request,
            provider: kind, classify: classify)
        guard let answer = try? ProviderTransport.snakeCaseDecoder.decode(Message.self, from: Data(buffer: bytes)),
            let usage = answer.usage?.tokenUsage
        else { throw ProviderError(.invalidResponse, provider: kind, message: "the message could not be decoded") }
        let text = (answer.content ?? []).filter { $0.type == "text" }.compactMap(\.text).joined()
        return ChatResult(
            id: answer.id ?? "", model: answer.model ?? request.model, content: text,
            finishReason: Self.finishReason(answer.stopReason), usage: usage)
    }

    public func stream(_ request: ChatRequest) async throws -> ChatEventStream {
        try await transport.stream(
            "\(baseURL)/v1/messages", headers: headers, body: try body(request, stream: true), request: request,
            provider: kind, decoder: StreamDecoder(), classify: classify)
    }

    /// `message_start` (input tokens), `content_block_delta` (text), `message_delta` (output tokens and
    /// the stop reason), `message_stop`.
    struct StreamDecoder: ProviderStreamDecoder {
        let kind = ProviderKind.anthropic
        var input: Int64?
        var output: Int64 = 0
        var stopped = false
        var reason = "stop"

        var billed: TokenUsage? {
            input.map { TokenUsage(promptTokens: $0, completionTokens: output, reasoningTokens: 0) }
        }

        mutating func decode(_ event: ServerSentEvents.Event) throws -> [ChatStreamEvent] {
            guard let data = event.data.data(using: .utf8),
                let piece = try? ProviderTransport.snakeCaseDecoder.decode(StreamEvent.self, from: data)
            else { return [] }
            switch piece.type {
            case "message_start":
                input = piece.message?.usage?.promptTokens
                output = piece.message?.usage?.outputTokens ?? 0
            case "content_block_delta":
                if let text = piece.delta?.text, piece.delta?.type == "text_delta", !text.isEmpty {
                    return [.delta(text)]
                }
            case "message_delta":
                if let tokens = piece.usage?.outputTokens { output = tokens }
                if let stop = piece.delta?.stopReason { reason = AnthropicProvider.finishReason(stop) }
            case "message_stop":
                stopped = true
            case "error":
                throw ProviderError(
                    .server, provider: kind, message: piece.error?.message ?? "the stream reported an error",
                    billed: billed)
            default:
                break
            }
            return []
        }

        func end() throws -> [ChatStreamEvent] {
            guard stopped, let usage = billed else {
                throw ProviderError(
                    .network, provider: kind, message: "the stream ended before message_stop", billed: billed)
            }
            return [.finish(reason), .usage(usage)]
        }
    }

    private var headers: [(String, String)] {
        var headers = [("anthropic-version", "2023-06-01")]
        if !apiKey.isEmpty { headers.append(("x-api-key", apiKey)) }
        return headers
    }

    private func body(_ request: ChatRequest, stream: Bool) throws -> Data {
        let system = request.messages.filter { $0.role == .system || $0.role == .developer }.map(\.content)
        let turns = request.messages.filter { $0.role == .user || $0.role == .assistant }.map {
            ["role": $0.role.rawValue, "content": $0.content]
        }
        var object: [String: Any] = ["model": request.model, "max_tokens": request.maxTokens, "messages": turns]
        if !system.isEmpty { object["system"] = system.joined(separator: "\n\n") }
        if let temperature = request.temperature { object["temperature"] = temperature }
        if let topP = request.topP { object["top_p"] = topP }
        if !request.stop.isEmpty { object["stop_sequences"] = request.stop }
        if stream { object["stream"] = true }
        return try JSONSerialization.data(withJSONObject: object)
    }

    static func finishReason(_ reason: String?) -> String {
        switch reason {
        case "max_tokens": "length"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    private func classify(_ status: Int, _ headers: HTTPHeaders, _ body: ByteBuffer) -> ProviderError {
        let error = (try? ProviderTransport.snakeCaseDecoder.decode(ErrorEnvelope.self, from: Data(buffer: body)))?
            .error
        let message = String((error?.message ?? "HTTP \(status)").prefix(300))
        if status == 529 || error?.type == "overloaded_error" {
            return ProviderError(
                .server, provider: kind, status: status, retryAfter: ProviderTransport.retryAfter(headers),
                message: message)
        }
        if message.localizedCaseInsensitiveContains("credit balance") || error?.type == "billing_error" {
            return ProviderError(.spendCap, provider: kind, status: status, message: message)
        }
        if status == 400, message.localizedCaseInsensitiveContains("prompt is too long") {
            return ProviderError(.requestTooLarge, provider: kind, status: status, message: message)
        }
        return ProviderTransport.classify(status: status, headers: headers, message: message, provider: kind)
    }

    struct Usage: Decodable {
        let inputTokens: Int64?
        let outputTokens: Int64?
        let cacheCreationInputTokens: Int64?
        let cacheReadInputTokens: Int64?
        /// Input tokens, cache writes and reads included, each bounded so the sum cannot overflow.
        var promptTokens: Int64? {
            inputTokens.map {
                TokenUsage.bounded($0) + TokenUsage.bounded(cacheCreationInputTokens)
                    + TokenUsage.bounded(cacheReadInputTokens)
            }
        }

        var tokenUsage: TokenUsage? {
            guard let input = promptTokens, let output = outputTokens else { return nil }
            return TokenUsage(promptTokens: input, completionTokens: output, reasoningTokens: 0)
        }
    }
    struct Message: Decodable {
        struct Block: Decodable {
            let type: String?
            let text: String?
        }
        let id: String?
        let model: String?
        let content: [Block]?
        let stopReason: String?
        let usage: Usage?
    }
    struct StreamEvent: Decodable {
        struct Delta: Decodable {
            let type: String?
            let text: String?
            let stopReason: String?
        }
        struct Failure: Decodable {
            let type: String?
            let message: String?
        }
        let type: String
        let message: Message?
        let delta: Delta?
        let usage: Usage?
        let error: Failure?
    }
    struct ErrorEnvelope: Decodable {
        struct Body: Decodable {
            let type: String?
            let message: String?
        }
        let error: Body?
    }
}
