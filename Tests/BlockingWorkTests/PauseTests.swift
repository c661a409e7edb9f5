import Testing

@testable import BlockingWork

@Suite(.timeLimit(.minutes(3))) struct PauseTests {
    @Test func aPauseLastsAtLeastItsDuration() async throws {
        let started = ContinuousClock.now
        try await Pause.for(.milliseconds(120))
        #expect(ContinuousClock.now - started >= .milliseconds(120))
        try await Pause.for(.seconds(-5))
        try await Pause.until(started)
    }

    @Test func cancellingAPauseEndsItAtOnce() async throws {
        let started = ContinuousClock.now
        let pause = Task { try await Pause.for(.seconds(60)) }
        try await Pause.for(.milliseconds(50))
        pause.cancel()
        await #expect(throws: CancellationError.self) { try await pause.value }
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}
