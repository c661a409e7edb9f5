import Providers
import Testing

/// The one event-stream reader every provider and the relay use: events however the bytes are chunked,
/// both line endings, comments skipped, data lines joined, an event without a blank line at the end still
/// read, and an endless event refused.
@Suite struct ServerSentEventsTests {
    static let stream = Array(
        ": keep-alive\n\nevent: delta\ndata: {\"a\":1}\n\ndata: one\r\ndata: two\r\n\r\ndata:[DONE]".utf8)

    @Test(arguments: [1, 2, 3, 7, 64, 1 << 20])
    func eventsAreTheSameHoweverTheBytesArrive(chunk: Int) throws {
        var reader = ServerSentEvents()
        var events: [ServerSentEvents.Event] = []
        for start in stride(from: 0, to: Self.stream.count, by: chunk) {
            events += try reader.feed(Self.stream[start..<min(start + chunk, Self.stream.count)])
        }
        if let last = reader.finish() { events.append(last) }
        #expect(events.map(\.name) == ["delta", "message", "message"])
        #expect(events.map(\.data) == ["{\"a\":1}", "one\ntwo", "[DONE]"])
    }

    @Test func anEventThatNeverEndsIsRefused() throws {
        var reader = ServerSentEvents()
        let line = Array("data: ".utf8) + [UInt8](repeating: 0x61, count: 1 << 20)
        var refused = false
        for _ in 0..<5 {
            do { _ = try reader.feed(line) } catch {
                refused = true
                break
            }
        }
        #expect(refused)
    }
}
