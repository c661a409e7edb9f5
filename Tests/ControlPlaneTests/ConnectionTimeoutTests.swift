import Foundation
import HummingbirdTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Defect 8: no read timeouts, so a client sending its headers one byte a second held a connection
/// (and up to a body's worth of memory) forever.
@Suite(.timeLimit(.minutes(3))) struct ConnectionTimeoutTests {
    /// Sends `bytes` one per `interval` and returns how long the server kept the connection open.
    static func trickle(port: Int, bytes: [UInt8], interval: Duration, limit: Duration) throws -> Duration {
        let descriptor = try RawHTTP.connected(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 1000))
        defer { close(descriptor) }
        let started = ContinuousClock.now
        var index = 0
        var buffer = [UInt8](repeating: 0, count: 256)
        while ContinuousClock.now - started < limit {
            if index < bytes.count {
                let sent = send(descriptor, [bytes[index]], 1, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return ContinuousClock.now - started }
                index += 1
            }
            let deadline = ContinuousClock.now + interval
            while ContinuousClock.now < deadline {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    return ContinuousClock.now - started
                }
                usleep(20_000)
            }
        }
        return ContinuousClock.now - started
    }

    @Test func aClientSendingHeadersOneByteASecondIsCutOff() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.httpHeaderTimeout = .seconds(2) }) { client in
            let port = try #require(client.port)
            let head = Array(
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "a", count: 40))\r\n\r\n".utf8)
            let held = try Self.trickle(port: port, bytes: head, interval: .seconds(1), limit: .seconds(10))
            #expect(held < .seconds(6), "the connection stayed open \(held)")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func aBodyThatNeverArrivesIsCutOff() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.httpBodyTimeout = .seconds(2) }) { client in
            let port = try #require(client.port)
            let head =
                "POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{"
            let held = try Self.trickle(
                port: port, bytes: Array(head.utf8), interval: .milliseconds(1), limit: .seconds(10))
            #expect(held < .seconds(6), "the connection stayed open \(held)")
        }
    }
}
