import Foundation
import HummingbirdTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Defect 8: no read timeouts, so a client sending its headers one byte a second held a connection
/// (and up to a body's worth of memory) forever.
@Suite(.timeLimit(.minutes(3))) struct ConnectionTimeoutTests {
    /// Sends `chunks` one per `interval` and returns how long the server kept the connection open after
    /// the first was sent. It runs on a thread of its own: its blocking reads and sends never hold a thread
    /// that runs tasks (two on this machine, shared with the server under test).
    static func trickle(port: Int, chunks: [[UInt8]], interval: Duration, limit: Duration) async throws -> Duration {
        try await RawHTTP.onOwnThread {
            let descriptor = try RawHTTP.connected(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 20_000))
            defer { close(descriptor) }
            let started = ContinuousClock.now
            var next = 0
            var buffer = [UInt8](repeating: 0, count: 256)
            while ContinuousClock.now - started < limit {
                if next < chunks.count {
                    let sent = send(descriptor, chunks[next], chunks[next].count, Int32(MSG_NOSIGNAL))
                    if sent <= 0 { return ContinuousClock.now - started }
                    next += 1
                }
                let deadline = ContinuousClock.now + interval
                repeat {
                    // Waits at most the receive timeout: 0 is the server's close, an error other than a
                    // timeout a reset.
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                        return ContinuousClock.now - started
                    }
                } while ContinuousClock.now < deadline
            }
            return ContinuousClock.now - started
        }
    }

    /// The deadlines are 2 s from the server reading the first byte (or the head); the client's clock also
    /// counts the time until the server reads, which on a loaded CI machine reached 4.7 s with every event
    /// loop answering within 13 ms (so not a blocked loop; issue 18 tracks it). A connection never cut
    /// off stays until the 12 s limit.
    static let bound = Duration.seconds(8)

    @Test func aClientSendingHeadersOneByteASecondIsCutOff() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.http.headerTimeout = .seconds(2) }) { client in
            let port = try #require(client.port)
            let head = Array(
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "a", count: 40))\r\n\r\n".utf8)
            let (held, probe) = try await EventLoopProbe.watching {
                try await Self.trickle(
                    port: port, chunks: head.map { [$0] }, interval: .seconds(1), limit: .seconds(12))
            }
            #expect(held < Self.bound, "the connection stayed open \(held); \(probe)")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func aBodyThatNeverArrivesIsCutOff() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.http.bodyTimeout = .seconds(2) }) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{"
            // The whole head at once: the clock measures the body's deadline, not how fast a loaded
            // machine can trickle a head.
            let (held, probe) = try await EventLoopProbe.watching {
                try await Self.trickle(
                    port: port, chunks: [Array(head.utf8)], interval: .seconds(1), limit: .seconds(12))
            }
            #expect(held < Self.bound, "the connection stayed open \(held); \(probe)")
        }
    }
}
