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

/// The one backoff: growth by its factor, the cap, the jitter, and no overflow however many attempts.
@Suite struct BackoffTests {
    @Test func itGrowsByItsFactorWithinTheJitterAndNeverPassesTheCap() {
        let backoff = Backoff(base: .seconds(2), factor: 2, cap: .seconds(60), jitter: 0.8...1.2)
        for _ in 0..<200 {
            let third = backoff.delay(after: 3)
            #expect(third >= .milliseconds(6_399) && third <= .milliseconds(9_601))
            #expect(
                backoff.delay(after: 10) <= .seconds(60) && backoff.delay(after: 10) >= .seconds(48) - .milliseconds(1))
            #expect(backoff.delay(after: Int.max) <= .seconds(60))
            #expect(backoff.delay(after: 0) <= .milliseconds(2_401))
        }
        let quadrupling = Backoff(base: .seconds(5), factor: 4, cap: .seconds(6 * 3600), jitter: 1...1)
        #expect(quadrupling.delay(after: 2) == .seconds(20))
    }

    @Test func retriesThatFailedTogetherDoNotComeBackTogether() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        let delays = Set((0..<20).map { _ in backoff.delay(after: 1) })
        #expect(delays.count > 10)
    }
}
