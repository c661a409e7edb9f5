import Foundation
import OpenAPIRuntime
import Providers
import Runtime

/// A gateway stream as OpenAI's server-sent events: a first chunk with the assistant role, a chunk per
/// piece of text, one with the finish reason, the usage chunk when the client asked for it, then
/// `data: [DONE]`. A stream that fails midway ends with an `error` event, as OpenAI's do.
enum ChatCompletionEvents {
    static func body(
        _ events: AsyncThrowingStream<ChatStreamEvent, any Error>, id: String, model: String, created: Int64,
        includeUsage: Bool
    ) -> HTTPBody {
        let (bytes, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        let producer = Task {
            func send(_ object: [String: Any]) {
                guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
                else { return }
                continuation.yield(ArraySlice(Array("data: ".utf8) + Array(data) + Array("\n\n".utf8)))
            }
            func chunk(_ delta: [String: Any], finish: String?) -> [String: Any] {
                [
                    "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()]],
                ]
            }
            send(chunk(["role": "assistant", "content": ""], finish: nil))
            do {
                for try await event in events {
                    switch event {
                    case .delta(let text):
                        send(chunk(["content": text], finish: nil))
                    case .finish(let reason):
                        send(chunk([:], finish: reason))
                    case .usage(let usage):
                        guard includeUsage else { continue }
                        send([
                            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                            "choices": [] as [Any],
                            "usage": [
                                "prompt_tokens": usage.promptTokens,
                                "completion_tokens": usage.completionTokens + usage.reasoningTokens,
                                "total_tokens": usage.totalTokens,
                                "completion_tokens_details": ["reasoning_tokens": usage.reasoningTokens],
                            ],
                        ])
                    }
                }
            } catch {
                send([
                    "error": [
                        "message": "The provider's stream failed before it ended.", "type": "upstream_error",
                        "code": "unavailable",
                    ]
                ])
            }
            continuation.yield(ArraySlice("data: [DONE]\n\n".utf8))
            continuation.finish()
        }
        // The client hanging up only stops the writing: the gateway reads and bills its stream regardless.
        continuation.onTermination = { _ in producer.cancel() }
        return HTTPBody(bytes, length: .unknown, iterationBehavior: .single)
    }
}
