import Testing

@testable import Persistence

/// Converting a float from outside (Postgres, a provider, a clock) to an integer never traps.
@Suite(.timeLimit(.minutes(3))) struct RoundedUpTests {
    @Test(arguments: [
        (Double.nan, Int64(1)), (.infinity, 60), (-.infinity, 1), (1e300, 60), (-1e300, 1), (0.2, 1), (59.01, 60),
        (9.3e18, 60), (-0.0, 1),
    ])
    func everyFloatLandsWithinTheBounds(value: Double, expected: Int64) {
        #expect(value.roundedUp(atLeast: Int64(1), atMost: 60) == expected)
    }

    @Test func theWholeInt64RangeIsSafe() {
        #expect(Double(Int64.max).roundedUp(atLeast: Int64.min, atMost: Int64.max) == Int64.max)
        #expect(Double(Int64.min).roundedUp(atLeast: Int64.min, atMost: Int64.max) == Int64.min)
        #expect((-9.3e18).roundedUp(atLeast: Int64.min, atMost: Int64.max) == Int64.min)
        #expect((1e18 + 0.5).roundedUp(atLeast: Int64(0), atMost: Int64.max) == 1_000_000_000_000_000_000)
    }

    @Test func boundsThatCrossNeverTrap() {
        #expect(5.0.roundedUp(atLeast: 10, atMost: 3) == 10)
        #expect(Double.infinity.roundedUp(atLeast: Int.max, atMost: Int.min) == Int.max)
        #expect(wholeSecondsLike(2e9, minimum: 2_000_000_000) == 2_000_000_000)
    }

    /// The floor twin: session and token times in seconds, whatever a clock or row holds.
    @Test(arguments: [
        (Double.nan, Int64(0)), (.infinity, 100), (-.infinity, 0), (1e300, 100), (-1e300, 0), (59.99, 59),
        (0.99, 0), (-0.5, 0), (9.3e18, 100),
    ])
    func roundingDownLandsWithinTheBounds(value: Double, expected: Int64) {
        #expect(value.roundedDown(atLeast: Int64(0), atMost: 100) == expected)
        #expect(Double.infinity.roundedDown(atLeast: Int.max, atMost: Int.min) == Int.max)
        #expect(Double(Int64.max).roundedDown(atLeast: Int64.min, atMost: Int64.max) == Int64.max)
    }

    /// The shape of Billing's `wholeSecondsRoundedUp`, whose minimum may pass its maximum.
    private func wholeSecondsLike(_ seconds: Double, minimum: Int) -> Int {
        seconds.roundedUp(atLeast: minimum, atMost: 1_000_000_000)
    }
}
