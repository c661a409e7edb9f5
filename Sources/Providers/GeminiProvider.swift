import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Google's Gemini API: `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`, usage in
/// `usageMetadata` with thinking tokens in `thoughtsTokenCount`, and 429s that say how long to wait in
/// a `RetryInfo.retryDelay`.
public struct GeminiProvider: LLMProvider {
    public let kind = ProviderKind.gemini
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
            url(request.model, method: "generateContent"), headers: headers, body: try body(request),
            request: request, provider: kind, classify: classify)
        guard let answer = try? JSONDecoder().decode(Response.self, from: Data(buffer: bytes)) else {
            throw ProviderError(.invalidResponse, provider: kind, message: "the answer could not be decoded")
        }
        guard let usage = answer.usageMetadata?.tokenUsage else {
            throw ProviderError(.invalidResponse, provider: kind, message: "the answer reported no usage")
        }
        let candidate = answer.candidates?.first
        return ChatResult(
            id: answer.responseId ?? "", model: answer.modelVersion ?? request.model, content: candidate?.text ?? "",
            finishReason: Self.finishReason(candidate?.finishReason), usage: usage)
    }

    public func stream(_ request: ChatRequest) async throws -> ChatEventStream {
        try await transport.stream(
            url(request.model, method: "streamGenerateContent") + "?alt=sse", headers: headers, body: try body(request),
            request: request, provider: kind, decoder: StreamDecoder(), classify: classify)
    }

    /// Chunks of `candidates` whose `usageMetadata` is the running total; the last one counts.
    struct StreamDecoder: ProviderStreamDecoder {
        let kind = ProviderKind.gemini
        var billed: TokenUsage?
        var reason: String?

        mutating func decode(_ event: ServerSentEvents.Event) throws -> [ChatStreamEvent] {
            guard let data = event.data.data(using: .utf8),
                let piece = try? JSONDecoder().decode(Response.self, from: data)
            else { return [] }
            let candidate = piece.candidates?.first
            if let finish = candidate?.finishReason { reason = GeminiProvider.finishReason(finish) }
            if let reported = piece.usageMetadata?.tokenUsage { billed = reported }
            if let text = candidate?.text, !text.isEmpty { return [.delta(text)] }
            return []
        }

        func end() throws -> [ChatStreamEvent] {
            guard let billed, let reason else {
                throw ProviderError(
                    .network, provider: kind, message: "the stream ended before it finished", billed: billed)
            }
            return [.finish(reason), .usage(billed)]
        }
    }

    private func url(_ model: String, method: String) -> String {
        let name = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ":"])) ?? model
        return "\(baseURL)/v1beta/models/\(name):\(method)"
    }

    private var headers: [(String, String)] {
        apiKey.isEmpty ? [] : [("x-goog-api-key", apiKey)]
    }

    private func body(_ request: ChatRequest) throws -> Data {
        let system = request.messages.filter { $0.role == .system || $0.role == .developer }.map(\.content)
        let turns = request.messages.filter { $0.role == .user || $0.role == .assistant }.map {
            ["role": $0.role == .assistant ? "model" : "user", "parts": [["text": $0.content]]] as [String: Any]
        }
        var generation: [String: Any] = ["maxOutputTokens": request.maxTokens]
        if let temperature = request.temperature { generation["temperature"] = temperature }
        if let topP = request.topP { generation["topP"] = topP }
        if !request.stop.isEmpty { generation["stopSequences"] = request.stop }
        var object: [String: Any] = ["contents": turns, "generationConfig": generation]
        if !system.isEmpty { object["systemInstruction"] = ["parts": system.map { ["text": $0] }] }
        return try JSONSerialization.data(withJSONObject: object)
    }

    static func finishReason(_ reason: String?) -> String {
        switch reason {
        case "MAX_TOKENS": "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII": "content_filter"
        default: "stop"
        }
    }

    private func classify(_ status: Int, _ headers: HTTPHeaders, _ body: ByteBuffer) -> ProviderError {
        let error = (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: body)))?.error
        let message = String((error?.message ?? "HTTP \(status)").prefix(300))
        let delay = error?.details?.compactMap(\.retryDelay).first.flatMap(Self.seconds)
        if status == 429, message.localizedCaseInsensitiveContains("billing") || message.contains("spending cap") {
            return ProviderError(.spendCap, provider: kind, status: status, message: message)
        }
        if status == 400, message.localizedCaseInsensitiveContains("exceeds the maximum number of tokens") {
            return ProviderError(.requestTooLarge, provider: kind, status: status, message: message)
        }
        return ProviderTransport.classify(
            status: status, headers: headers, message: message, provider: kind, retryAfter: delay)
    }

    /// A protobuf Duration in JSON ("30s", "1.5s").
    static func seconds(_ text: String) -> Duration? {
        guard text.hasSuffix("s"), let value = Double(text.dropLast()), value.isFinite, value >= 0 else { return nil }
        return .milliseconds(Int64(min(value, 3600) * 1000))
    }

    struct UsageMetadata: Decodable {
        let promptTokenCount: Int64?
        let candidatesTokenCount: Int64?
        let thoughtsTokenCount: Int64?
        let totalTokenCount: Int64?

        var tokenUsage: TokenUsage? {
            guard let prompt = promptTokenCount else { return nil }
            return TokenUsage(
                promptTokens: prompt, completionTokens: candidatesTokenCount ?? 0,
                reasoningTokens: thoughtsTokenCount ?? 0,
                totalTokens: totalTokenCount)
        }
    }
    struct Response: Decodable {
        struct Candidate: Decodable {
            struct Content: Decodable {
                struct Part: Decodable {
                    let text: String?
                    let thought: Bool?
                }
                let parts: [Part]?
            }
            let content: Content?
            let finishReason: String?
            var text: String {
                (content?.parts ?? []).filter { $0.thought != true }.compactMap(\.text).joined()
            }
        }
        let candidates: [Candidate]?
        let usageMetadata: UsageMetadata?
        let modelVersion: String?
        let responseId: String?
    }
    struct ErrorEnvelope: Decodable {
        struct Detail: Decodable { let retryDelay: String? }
        struct Body: Decodable {
            let code: Int?
            let message: String?
            let status: String?
            let details: [Detail]?
        }
        let error: Body?
    }
}
