import BlockingWork
import Logging
import TestKit
import Testing

/// The one periodic loop: passes an interval apart, a failed pass followed by the next, a full batch
/// followed at once, the first pass at once or after one interval, and an end when the task is cancelled.
@Suite(.timeLimit(.minutes(1))) struct PeriodicTests {
    static let logger = Logger(label: "periodic-tests")

    struct Failed: Error {}

    @Test func aFailedPassIsFollowedByTheNextAndCancellingEndsTheLoop() async throws {
        let passes = Shared(0)
        let loop = Task {
            await Periodic.run(every: .milliseconds(20), logger: Self.logger, failure: "pass failed") {
                let count = passes.withLock {
                    $0 += 1
                    return $0
                }
                if count == 1 { throw Failed() }
            }
        }
        try await eventually { passes.withLock { $0 } >= 3 }
        loop.cancel()
        await loop.value
        let ended = passes.withLock { $0 }
        try await Pause.for(.milliseconds(100))
        #expect(passes.withLock { $0 } == ended)
    }

    @Test func aFullBatchIsFollowedAtOnce() async throws {
        let started = ContinuousClock.now
        let passes = Shared(0)
        let loop = Task {
            await Periodic.runInBatches(every: .seconds(30), logger: Self.logger, failure: "pass failed") {
                passes.withLock {
                    $0 += 1
                    return $0
                } < 5 ? .again : .pause
            }
        }
        try await eventually { passes.withLock { $0 } == 5 }
        #expect(ContinuousClock.now - started < .seconds(5))
        loop.cancel()
        await loop.value
    }

    @Test func theFirstPassCanWaitOneInterval() async throws {
        let firstAt = Shared<ContinuousClock.Instant?>(nil)
        let started = ContinuousClock.now
        let loop = Task {
            await Periodic.run(
                every: .milliseconds(300), start: .afterOneInterval, logger: Self.logger, failure: "pass failed"
            ) { firstAt.withLock { $0 = $0 ?? .now } }
        }
        try await eventually { firstAt.withLock { $0 } != nil }
        loop.cancel()
        await loop.value
        #expect(try #require(firstAt.withLock { $0 }) - started >= .milliseconds(300))
    }
}
