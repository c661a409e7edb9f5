import Synchronization
import TestKit
import Testing

@testable import BlockingWork
@testable import Persistence

/// `Abandon.within` keeps its deadline in the process's `DeadlineWatch`: work that never answers is given
/// up about its limit later (at most one sweep late), work that answers leaves nothing watched, and a
/// cancelled caller stops waiting at once.
@Suite(.timeLimit(.minutes(1)), .serialized) struct DeadlineWatchTests {
    @Test func workThatNeverAnswersIsGivenUpAtItsLimit() async throws {
        let abandoned = Shared(false)
        let started = ContinuousClock.now
        await #expect(throws: Abandon.Abandoned.self) {
            try await Abandon.within(.milliseconds(200), onAbandon: { abandoned.withLock { $0 = true } }) {
                await Self.neverAnswers()
            }
        }
        let took = ContinuousClock.now - started
        #expect(took >= .milliseconds(200) && took < .seconds(2), "given up after \(took)")
        // `onAbandon` runs just after the caller is answered.
        try await eventually { abandoned.withLock { $0 } }
    }

    @Test func workThatAnswersLeavesNothingWatched() async throws {
        // A watch of its own: the process's is shared with the statements of suites running meanwhile.
        let deadlines = DeadlineWatch(tick: .milliseconds(50))
        for index in 0..<100 {
            #expect(try await Abandon.within(.seconds(30), watchedBy: deadlines) { index } == index)
        }
        #expect(deadlines.count == 0)
    }

    @Test func aCancelledCallerStopsWaitingAtOnce() async throws {
        let caller = Task { try await Abandon.within(.seconds(30)) { await Self.neverAnswers() } }
        try await Pause.for(.milliseconds(50))
        let started = ContinuousClock.now
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    /// Waits for ever, ignoring cancellation (as a postgres-nio statement whose write was dropped does).
    static func neverAnswers() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Self.leaked.withLock { $0.append(continuation) }
        }
    }

    static let leaked = Mutex<[CheckedContinuation<Void, Never>]>([])
}
