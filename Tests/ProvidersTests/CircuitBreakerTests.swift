import Providers
import Testing

/// A provider's breaker: it opens after the threshold of faults in a row, fails calls at once while open,
/// lets one probe through after the cooldown, and the probe's outcome closes or reopens it; an answer that
/// says nothing of the provider's health (a 400) does not count against it.
@Suite struct CircuitBreakerTests {
    @Test func itOpensAfterTheThresholdAndOneProbeDecides() async throws {
        let breaker = CircuitBreaker(threshold: 3, cooldown: .milliseconds(50))
        for _ in 0..<2 {
            #expect(breaker.allow())
            breaker.recordFailure()
        }
        breaker.recordNeutral()
        #expect(breaker.state == .closed && breaker.allow())
        breaker.recordFailure()
        #expect(breaker.state == .open && !breaker.allow())
        try await Task.sleep(for: .milliseconds(60))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.allow() && !breaker.allow(), "one probe at a time")
        breaker.recordFailure()
        #expect(breaker.state == .open && !breaker.allow(), "a failed probe reopens it")
        try await Task.sleep(for: .milliseconds(60))
        #expect(breaker.allow())
        breaker.recordSuccess()
        #expect(breaker.state == .closed && breaker.isIdle && breaker.allow())
    }
}
