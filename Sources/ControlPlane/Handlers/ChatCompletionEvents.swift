import Foundation
import OpenAPIRuntime
import Providers

/// A gateway stream as OpenAI's server-sent events: a first chunk with the assistant role, a chunk per
/// piece of text, one with the finish reason, the usage chunk when the client asked for it, then
/// `data: [DONE]`. A stream that fails midway ends with an `error` event, as OpenAI's do. The events
/// are written only as fast as the client reads them (a bounded buffer between): a client that stops
/// reading holds the provider's stream back instead of filling memory; one that leaves ends it.
enum ChatCompletionEvents {
    static func body(
        _ events: ChatEventStream, id: String, model: String, created: Int64, includeUsage: Bool,
        deadline: ContinuousClock.Instant, whenDone: @escaping @Sendable () -> Void
    ) -> HTTPBody {
        let bytes = BoundedStream<ArraySlice<UInt8>>(limit: events.limit, weigh: { $0.count })
        let producer = Task {
            // The gateway ends its stream by the deadline; a client that never reads (or a body that is
            // never written) is given up a little after it, so nothing waits on it for ever.
            _ = await untilDeadline(deadline + .seconds(5)) {
                await write(events, into: bytes, id: id, model: model, created: created, includeUsage: includeUsage)
            }
            bytes.finish()
            whenDone()
        }
        // The client hanging up ends the gateway's stream, which bills what was streamed.
        bytes.onTermination = { producer.cancel() }
        return HTTPBody(bytes, length: .unknown, iterationBehavior: .single)
    }

    private static func write(
        _ events: ChatEventStream, into bytes: BoundedStream<ArraySlice<UInt8>>, id: String, model: String,
        created: Int64, includeUsage: Bool
    ) async {
        func send(_ object: [String: Any]) async -> Bool {
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
            else { return true }
            return await bytes.send(ArraySlice(Array("data: ".utf8) + Array(data) + Array("\n\n".utf8)))
        }
        func chunk(_ delta: [String: Any], finish: String?) -> [String: Any] {
            [
                "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()]],
            ]
        }
        guard await send(chunk(["role": "assistant", "content": ""], finish: nil)) else { return }
        do {
            for try await event in events {
                let sent: Bool
                switch event {
                case .delta(let text):
                    sent = await send(chunk(["content": text], finish: nil))
                case .finish(let reason):
                    sent = await send(chunk([:], finish: reason))
                case .usage(let usage):
                    guard includeUsage else { continue }
                    sent = await send([
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
                guard sent else { return }
            }
        } catch {
            _ = await send([
                "error": [
                    "message": "The provider's stream failed before it ended.", "type": "upstream_error",
                    "code": "unavailable",
                ]
            ])
        }
        _ = await bytes.send(ArraySlice("data: [DONE]\n\n".utf8))
    }
}
