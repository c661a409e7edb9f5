import Foundation
import OpenAPIRuntime

/// RFC 3339 dates for the API (`2026-11-22T13:28:13Z`, whole seconds, UTC), written by arithmetic instead
/// of the runtime's default transcoder, which formats through ICU behind a process-wide lock (about 4 % of
/// the server's CPU on `GET /v1/tenant`). The text is exactly what the default writes. Reading, and any
/// date outside the years 1583 to 9999, go to the default transcoder (ICU writes earlier dates in the
/// Julian calendar; this writes the Gregorian one).
package struct InternetDateTranscoder: DateTranscoder {
    private let fallback = ISO8601DateTranscoder.iso8601

    package init() {}

    package func encode(_ date: Date) throws -> String {
        guard let text = Self.format(date) else { return try fallback.encode(date) }
        return text
    }

    package func decode(_ dateString: String) throws -> Date {
        try fallback.decode(dateString)
    }

    /// The date in UTC to the second (rounded down, as the default does); nil outside the years 1583 to
    /// 9999 or when the date is not finite.
    package static func format(_ date: Date) -> String? {
        let interval = date.timeIntervalSince1970.rounded(.down)
        // Years 1583 to 9999 in seconds since 1970; also keeps NaN and infinities out of the conversion.
        guard interval >= -12_212_553_600, interval < 253_402_300_800, let seconds = Int64(exactly: interval) else {
            return nil
        }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(daysSince1970: days)
        var text = ""
        text.reserveCapacity(20)
        append(year, width: 4, to: &text)
        text.append("-")
        append(month, width: 2, to: &text)
        text.append("-")
        append(day, width: 2, to: &text)
        text.append("T")
        append(secondOfDay / 3600, width: 2, to: &text)
        text.append(":")
        append(secondOfDay % 3600 / 60, width: 2, to: &text)
        text.append(":")
        append(secondOfDay % 60, width: 2, to: &text)
        text.append("Z")
        return text
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    package static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }
}
