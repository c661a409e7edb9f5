import BlockingWork
import Foundation
import Testing

@testable import Observability

#if canImport(Glibc)
    import Glibc
#endif

/// A log reader that falls behind never holds the task that logs: lines past the queue's bound are
/// dropped and counted, and the count is written once the reader reads again.
@Suite(.timeLimit(.minutes(1))) struct LogLineWriterTests {
    @Test func aReaderThatReadsNothingNeverBlocksTheLogger() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        // Neither end is ever closed: the writer's thread still holds lines for the pipe when the test
        // ends, and a closed descriptor's number is soon another socket of this process (a soak run once
        // saw the leftover lines land in two other tests' connections, which then never looked idle).
        let writer = LogLineWriter(descriptor: ends[1], maximumQueuedBytes: 64 << 10)
        let line = Data((String(repeating: "x", count: 1023) + "\n").utf8)
        // 4 MiB into a pipe of 64 KiB that nobody reads: a blocking write would never return.
        let started = ContinuousClock.now
        for _ in 0..<4096 { writer.write(line) }
        #expect(ContinuousClock.now - started < .seconds(5), "writing took \(ContinuousClock.now - started)")

        // Reading the pipe dry lets the writer go on, and it says how many lines it dropped.
        let flags = fcntl(ends[0], F_GETFL)
        _ = fcntl(ends[0], F_SETFL, flags | O_NONBLOCK)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !String(decoding: received, as: UTF8.self).contains("dropped") {
            let count = read(ends[0], &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else {
                try await Pause.for(.milliseconds(10))
            }
            // Keep only the tail: the notice comes after the queued lines.
            if received.count > 1 << 20 { received = received.suffix(4096) }
        }
        #expect(String(decoding: received, as: UTF8.self).contains("log lines dropped"))
    }
}
