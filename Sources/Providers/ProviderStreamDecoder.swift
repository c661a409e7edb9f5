import AsyncHTTPClient
import NIOCore

/// One provider's stream format: turns each server-sent event into chat events, keeps what the provider
/// has billed so far, and says at the end whether the stream was complete.
protocol ProviderStreamDecoder: Sendable {
    /// The chat events one server-sent event carries; throws `ProviderError` for an error event.
    mutating func decode(_ event: ServerSentEvents.Event) throws -> [ChatStreamEvent]
    /// The usage the provider reported so far, if any.
    var billed: TokenUsage? { get }
    /// The events that close a complete stream (finish and usage); throws `ProviderError` when the
    /// stream ended before the provider said it was done.
    func end() throws -> [ChatStreamEvent]
}

/// The weight of one chat event in a `BoundedStream`: its text plus a little for the event itself.
extension ChatStreamEvent {
    public var weight: Int {
        if case .delta(let text) = self { return text.utf8.count + 32 }
        return 32
    }
}

/// A chat stream with its buffer bounded in bytes.
public typealias ChatEventStream = BoundedStream<ChatStreamEvent>

extension ProviderTransport {
    /// Relays `response`'s server-sent events as chat events through a bounded buffer: the body is read
    /// only as fast as the stream's consumer reads it, at most `maxStreamBytes` in all. When the
    /// consumer leaves, the request is cancelled (closing the connection). A stream cut short ends by
    /// throwing `ProviderError` with what the provider had billed by then.
    func events(
        of response: HTTPClientResponse, provider: ProviderKind, decoder: some ProviderStreamDecoder
    ) -> ChatEventStream {
        let stream = ChatEventStream(limit: streamBufferBytes, weigh: { $0.weight })
        let (maxBytes, keepAlive) = (maxStreamBytes, self.keepAlive)
        let task = Task {
            // A pinned client stays open until the stream has been read.
            defer { withExtendedLifetime(keepAlive) {} }
            var decoder = decoder
            var parser = ServerSentEvents()
            var read = 0
            do {
                for try await chunk in response.body {
                    read += chunk.readableBytes
                    guard read <= maxBytes else {
                        throw ProviderError(
                            .invalidResponse, provider: provider,
                            message: "the stream passed \(maxBytes) bytes", billed: decoder.billed)
                    }
                    for event in try parser.feed(chunk.readableBytesView) {
                        for out in try decoder.decode(event) {
                            guard await stream.send(out) else { return }
                        }
                    }
                }
                try Task.checkCancellation()
                for out in try decoder.end() {
                    guard await stream.send(out) else { return }
                }
                stream.finish()
            } catch {
                var failure = Self.failure(error, provider: provider)
                failure.billed = failure.billed ?? decoder.billed
                stream.finish(throwing: failure)
            }
        }
        stream.onTermination = { task.cancel() }
        return stream
    }
}
