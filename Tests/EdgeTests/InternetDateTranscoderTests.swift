import Foundation
import OpenAPIRuntime
import PropertyBased
import Testing

@testable import Edge

/// The API's date writer must write exactly what the runtime's default (ICU) transcoder writes.
@Suite(.timeLimit(.minutes(3))) struct InternetDateTranscoderTests {
    static let reference = ISO8601DateTranscoder.iso8601

    @Test(arguments: [
        0.0, -1, 0.999, -0.001, 86_399.5, 951_782_400,  // 2000-02-29, a leap day of a century year
        4_107_542_400,  // 2100-03-01, after a century that is not leap
        -12_212_553_600,  // 1583-01-01T00:00:00Z, the first second written by arithmetic
        -12_219_292_801, -62_135_596_800,  // before it: the default's Julian calendar
        253_402_300_799.9,  // 9999-12-31T23:59:59Z, the last
        1_795_353_476.247357,
    ])
    func knownDatesMatchTheDefault(_ seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(try InternetDateTranscoder().encode(date) == Self.reference.encode(date))
    }

    @Test func randomDatesMatchTheDefault() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: -12_212_553_600...253_402_300_799)) { seconds in
            let date = Date(timeIntervalSince1970: Double(seconds) + 0.25)
            #expect(InternetDateTranscoder.format(date) == (try? Self.reference.encode(date)))
        }
    }

    @Test func datesOutsideTheRangeGoToTheDefaultWithoutTrapping() throws {
        #expect(InternetDateTranscoder.format(Date(timeIntervalSince1970: .nan)) == nil)
        #expect(InternetDateTranscoder.format(Date(timeIntervalSince1970: .infinity)) == nil)
        #expect(InternetDateTranscoder.format(Date(timeIntervalSince1970: -1e300)) == nil)
        #expect(InternetDateTranscoder.format(Date(timeIntervalSince1970: 253_402_300_800)) == nil)
        #expect(InternetDateTranscoder.format(Date(timeIntervalSince1970: -12_212_553_601)) == nil)
        let far = Date(timeIntervalSince1970: 300_000_000_000)
        #expect(try InternetDateTranscoder().encode(far) == Self.reference.encode(far))
    }

    @Test func readingIsTheDefaults() throws {
        let text = "2026-11-22T13:28:13Z"
        #expect(try InternetDateTranscoder().decode(text) == Self.reference.decode(text))
    }
}
