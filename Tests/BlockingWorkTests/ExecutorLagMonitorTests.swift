import Foundation
import Synchronization
import Testing

@testable import BlockingWork

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.timeLimit(.minutes(1))) struct ExecutorLagMonitorTests {
    @Test func aScrapeReadsTheLongestLagSinceTheLastOneAndHealthTheLastMinute() {
        let monitor = ExecutorLagMonitor(window: .seconds(60))
        let start = ContinuousClock.now
        monitor.record(.milliseconds(3), at: start)
        monitor.record(.milliseconds(40), at: start + .seconds(1))
        monitor.record(.milliseconds(7), at: start + .seconds(2))
        #expect(monitor.takeMaximum() == .milliseconds(40))
        #expect(monitor.takeMaximum() == .zero)
        #expect(monitor.recentMaximum == .milliseconds(40))
        monitor.record(.milliseconds(2), at: start + .seconds(90))
        #expect(monitor.recentMaximum == .milliseconds(2))
    }

    /// Both threads of the cooperative executor (as many as cores) blocked for 400 ms on purpose: the
    /// monitor's next wake-up is that late, which is what it is there to show.
    @Test func aBlockedExecutorShowsAsLag() async throws {
        let monitor = ExecutorLagMonitor(interval: .milliseconds(20))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await monitor.run() }
            try await Pause.for(.milliseconds(100))
            _ = monitor.takeMaximum()
            // Each blocker waits (up to 2 s) until all have started, so that they hold every thread at once.
            let threads = ProcessInfo.processInfo.activeProcessorCount
            let started = Counter()
            await withTaskGroup(of: Void.self) { blockers in
                for _ in 0..<threads {
                    blockers.addTask {
                        started.increment()
                        let deadline = ContinuousClock.now + .seconds(2)
                        while started.value < threads, ContinuousClock.now < deadline { usleep(1_000) }
                        usleep(400_000)
                    }
                }
            }
            try await Pause.for(.milliseconds(100))
            #expect(monitor.takeMaximum() >= .milliseconds(200))
            group.cancelAll()
        }
    }
}

private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
