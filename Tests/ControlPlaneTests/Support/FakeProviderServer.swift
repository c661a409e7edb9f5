import BlockingWork
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local stand-in for the LLM providers (there is no internet here), speaking each one's real wire
/// format: OpenAI chat completions (`/v1/chat/completions`, `usage` with reasoning tokens, SSE chunks
/// ending with a usage chunk), Gemini (`/v1beta/models/M:generateContent` and
/// `:streamGenerateContent?alt=sse`, `usageMetadata` with `thoughtsTokenCount`) and Anthropic
/// (`/v1/messages`, `usage`, `message_start`/`content_block_delta`/`message_delta` events), with their
/// 429, 5xx and 401 shapes. The model name picks the behaviour:
/// `ok` (exactly 1,000 tokens), `jitter` (ok after 0-60 ms), `flaky` (one in five calls 503),
/// `limited` (429 with Retry-After), `broken` (500), `denied` (401), `slow` (answers after 3 s), `hang`
/// (after 20 s),
/// `cut` (a stream that stops midway), `thinker` (reasoning/thinking tokens). Upstreams that trickle,
/// flood or stall are `HostileUpstream`'s.
final class FakeProviderServer: Sendable {
    struct Counts: Sendable {
        var calls = 0
        /// Tokens reported as billed in answers that reached their end.
        var billedTokens: Int64 = 0
        var byModel: [String: Int] = [:]
        var requestIDs: Set<String> = []
        /// The `Authorization` header of each OpenAI-format call, in arrival order.
        var authorizations: [String] = []
    }

    private let counts = Mutex(Counts())
    /// The usage every successful answer reports: 400 prompt + 600 completion = 1,000.
    static let prompt: Int64 = 400
    static let completion: Int64 = 600
    static let reasoning: Int64 = 250

    var snapshot: Counts { counts.withLock { $0 } }

    private func count(_ model: String, requestID: String?) -> Int {
        counts.withLock {
            $0.calls += 1
            $0.byModel[model, default: 0] += 1
            if let requestID { $0.requestIDs.insert(requestID) }
            return $0.byModel[model, default: 0]
        }
    }

    private func billed(_ tokens: Int64) {
        counts.withLock { $0.billedTokens += tokens }
    }

    /// Runs the server on a free loopback port while `body` runs; answers `body`'s value.
    func run<Value: Sendable>(_ body: @Sendable (Int) async throws -> Value) async throws -> Value {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in try await self.openAI(request) }
        router.post("/v1/messages") { request, _ in try await self.anthropic(request) }
        router.post("/v1beta/models/:call") { request, context in
            try await self.gemini(request, call: context.parameters.get("call") ?? "")
        }
        return try await withLoopbackServer(router, label: "fake-provider") { port in try await body(port) }
    }

    // MARK: - Behaviour

    enum Outcome {
        case answer
        case status(Int, headers: HTTPFields, body: String)
    }

    private func outcome(_ model: String, call: Int, provider: String) async throws -> Outcome {
        switch model {
        case "jitter":
            try await Pause.for(.milliseconds(Int.random(in: 0...60)))
        case "flaky":
            if Int.random(in: 0..<5) == 0 { return .status(503, headers: [:], body: Self.errorBody(503, provider)) }
        case "limited":
            return .status(429, headers: [.retryAfter: "1"], body: Self.errorBody(429, provider))
        case "broken":
            return .status(500, headers: [:], body: Self.errorBody(500, provider))
        case "denied":
            return .status(401, headers: [:], body: Self.errorBody(401, provider))
        case "slow":
            try await Pause.for(.seconds(3))
        case "hang":
            try await Pause.for(.seconds(20))
        default:
            break
        }
        return .answer
    }

    static func errorBody(_ status: Int, _ provider: String) -> String {
        switch provider {
        case "gemini":
            let state = status == 429 ? "RESOURCE_EXHAUSTED" : status == 401 ? "UNAUTHENTICATED" : "UNAVAILABLE"
            let retry =
                status == 429
                ? #","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}]"# : ""
            return #"{"error":{"code":\#(status),"message":"fake \#(state)","status":"\#(state)"\#(retry)}}"#
        case "anthropic":
            let type =
                status == 429
                ? "rate_limit_error"
                : status == 401 ? "authentication_error" : status == 529 ? "overloaded_error" : "api_error"
            return #"{"type":"error","error":{"type":"\#(type)","message":"fake \#(type)"}}"#
        default:
            let type = status == 429 ? "rate_limit_exceeded" : status == 401 ? "invalid_api_key" : "server_error"
            return #"{"error":{"message":"fake \#(type)","type":"\#(type)","param":null,"code":"\#(type)"}}"#
        }
    }

    private func failure(_ status: Int, headers: HTTPFields, body: String) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(
            status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 1 << 22)
        return (try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }

    private static func sse(_ events: [String], cutAfter: Int? = nil) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: .init { writer in
                for (index, event) in events.enumerated() {
                    if let cutAfter, index >= cutAfter { throw CutShort() }
                    try await writer.write(ByteBuffer(string: event))
                }
                try await writer.finish(nil)
            })
    }

    struct CutShort: Error {}

    // MARK: - OpenAI

    private func openAI(_ request: Request) async throws -> Response {
        let body = try await Self.json(request)
        let model = body["model"] as? String ?? ""
        let call = count(model, requestID: request.headers[HTTPField.Name("X-Request-Id")!])
        let authorization = request.headers[.authorization] ?? ""
        counts.withLock { $0.authorizations.append(authorization) }
        if case .status(let status, let headers, let text) = try await outcome(model, call: call, provider: "openai") {
            return failure(status, headers: headers, body: text)
        }
        let reasoning = model == "thinker" ? Self.reasoning : 0
        // OpenAI counts reasoning inside completion_tokens.
        let usage: [String: Any] = [
            "prompt_tokens": Self.prompt, "completion_tokens": Self.completion + reasoning,
            "total_tokens": Self.prompt + Self.completion + reasoning,
            "completion_tokens_details": ["reasoning_tokens": reasoning],
        ]
        let total = Self.prompt + Self.completion + reasoning
        if body["stream"] as? Bool == true {
            func chunk(_ object: [String: Any]) -> String {
                "data: " + String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n\n"
            }
            let base: [String: Any] = [
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
            ]
            var events = [
                chunk(base.merging(["choices": [["index": 0, "delta": ["role": "assistant", "content": ""]]]]) { $1 })
            ]
            for word in ["Hello", " from", " the", " fake"] {
                events.append(chunk(base.merging(["choices": [["index": 0, "delta": ["content": word]]]]) { $1 }))
            }
            events.append(
                chunk(base.merging(["choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]]) { $1 }))
            events.append(chunk(base.merging(["choices": [], "usage": usage]) { $1 }))
            events.append("data: [DONE]\n\n")
            if model == "cut" { return Self.sse(events, cutAfter: 3) }
            billed(total)
            return Self.sse(events)
        }
        billed(total)
        let answer: [String: Any] = [
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
            "choices": [
                [
                    "index": 0, "message": ["role": "assistant", "content": "Hello from the fake"],
                    "finish_reason": "stop",
                ]
            ],
            "usage": usage,
        ]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: answer))))
    }

    // MARK: - Gemini

    private func gemini(_ request: Request, call path: String) async throws -> Response {
        let parts = path.split(separator: ":", maxSplits: 1).map(String.init)
        let model = parts.first ?? ""
        let streaming = parts.count > 1 && parts[1] == "streamGenerateContent"
        _ = try await Self.json(request)
        let call = count(model, requestID: request.headers[HTTPField.Name("X-Request-Id")!])
        if case .status(let status, let headers, let text) = try await outcome(model, call: call, provider: "gemini") {
            return failure(status, headers: headers, body: text)
        }
        let thoughts = model == "thinker" ? Self.reasoning : 0
        let total = Self.prompt + Self.completion + thoughts
        func response(_ text: String, finish: String?, usage: Bool) -> String {
            var candidate: [String: Any] = ["content": ["role": "model", "parts": [["text": text]]], "index": 0]
            if let finish { candidate["finishReason"] = finish }
            var object: [String: Any] = ["candidates": [candidate], "modelVersion": model, "responseId": "fake"]
            if usage {
                var metadata: [String: Any] = [
                    "promptTokenCount": Self.prompt, "candidatesTokenCount": Self.completion, "totalTokenCount": total,
                ]
                if thoughts > 0 { metadata["thoughtsTokenCount"] = thoughts }
                object["usageMetadata"] = metadata
            }
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        if streaming {
            let events = [
                "data: " + response("Hello", finish: nil, usage: false) + "\r\n\r\n",
                "data: " + response(" from the fake", finish: "STOP", usage: true) + "\r\n\r\n",
            ]
            if model == "cut" { return Self.sse(events, cutAfter: 1) }
            billed(total)
            return Self.sse(events)
        }
        billed(total)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: response("Hello from the fake", finish: "STOP", usage: true))))
    }

    // MARK: - Anthropic

    private func anthropic(_ request: Request) async throws -> Response {
        let body = try await Self.json(request)
        let model = body["model"] as? String ?? ""
        let call = count(model, requestID: request.headers[HTTPField.Name("X-Request-Id")!])
        if case .status(let status, let headers, let text) = try await outcome(model, call: call, provider: "anthropic")
        {
            return failure(status, headers: headers, body: text)
        }
        let total = Self.prompt + Self.completion
        if body["stream"] as? Bool == true {
            func event(_ name: String, _ object: [String: Any]) -> String {
                "event: \(name)\ndata: "
                    + String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n\n"
            }
            let events = [
                event(
                    "message_start",
                    [
                        "type": "message_start",
                        "message": [
                            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                            "content": [], "usage": ["input_tokens": Self.prompt, "output_tokens": 1],
                        ],
                    ]),
                event(
                    "content_block_start",
                    ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]),
                event("ping", ["type": "ping"]),
                event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "Hello from"]]),
                event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": " the fake"]]),
                event("content_block_stop", ["type": "content_block_stop", "index": 0]),
                event(
                    "message_delta",
                    [
                        "type": "message_delta", "delta": ["stop_reason": "end_turn"],
                        "usage": ["output_tokens": Self.completion],
                    ]),
                event("message_stop", ["type": "message_stop"]),
            ]
            if model == "cut" { return Self.sse(events, cutAfter: 4) }
            billed(total)
            return Self.sse(events)
        }
        billed(total)
        let answer: [String: Any] = [
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [["type": "text", "text": "Hello from the fake"]], "stop_reason": "end_turn",
            "usage": ["input_tokens": Self.prompt, "output_tokens": Self.completion],
        ]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: answer))))
    }
}
