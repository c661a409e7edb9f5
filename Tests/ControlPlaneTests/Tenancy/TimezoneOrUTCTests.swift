import PostgresNIO
import Testing

/// The time zone a commitment's due moment is reckoned in (`timezone_or_utc`, used by the trigger that
/// watches commitments): a zone Postgres knows is kept, anything else is UTC, and never an error that
/// would fail the analysis being stored.
@Suite(.timeLimit(.minutes(1))) struct TimezoneOrUTCTests {
    @Test(arguments: [
        ("Europe/Berlin", "Europe/Berlin"), ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Not/AZone", "UTC"), ("", "UTC"), (String(repeating: "x", count: 5000), "UTC"),
    ])
    func aZonePostgresKnowsIsKeptAndAnyOtherIsUTC(zone: String, expected: String) async throws {
        let answer = try await TestEnvironment.withDatabase { pool in
            try await pool.query("SELECT timezone_or_utc(\(zone))", logger: TestEnvironment.logger)
                .collect().first?.decode(String.self)
        }
        #expect(answer == expected)
    }

    @Test func noZoneIsUTC() async throws {
        let answer = try await TestEnvironment.withDatabase { pool in
            try await pool.query("SELECT timezone_or_utc(NULL)", logger: TestEnvironment.logger)
                .collect().first?.decode(String.self)
        }
        #expect(answer == "UTC")
    }
}
