import Testing

@testable import Tenancy

/// Converting a float from outside (Postgres, a provider, a clock) to an integer never traps.
@Suite(.timeLimit(.minutes(3))) struct RoundedUpTests {
    @Test(arguments: [
        (Double.nan, Int64(1)), (.infinity, 60), (-.infinity, 1), (1e300, 60), (-1e300, 1), (0.2, 1), (59.01, 60),
        (9.3e18, 60), (-0.0, 1),
    ])
    func everyFloatLandsWithinTheBounds(value: Double, expected: Int64) {
        #expect(value.roundedUp(within: 1...60) == expected)
    }

    @Test func theWholeInt64RangeIsSafe() {
        #expect(Double(Int64.max).roundedUp(within: Int64.min...Int64.max) == Int64.max)
        #expect(Double(Int64.min).roundedUp(within: Int64.min...Int64.max) == Int64.min)
        #expect((-9.3e18).roundedUp(within: Int64.min...Int64.max) == Int64.min)
        #expect((1e18 + 0.5).roundedUp(within: 0...Int64.max) == 1_000_000_000_000_000_000)
    }
}
