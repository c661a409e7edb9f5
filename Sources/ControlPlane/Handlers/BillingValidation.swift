import Billing
import Edge
import Foundation
import Tenancy

/// Checks of billing inputs that the generated code does not enforce (ranges and calendar days).
extension Validation {
    static func range<Value: BinaryInteger>(_ value: Value, _ bounds: ClosedRange<Value>, field: String) throws {
        guard bounds.contains(value) else {
            throw APIError.invalid("\(field) must be between \(bounds.lowerBound) and \(bounds.upperBound).")
        }
    }

    /// The longest span `GET /v1/usage` answers for.
    static let maxUsageDays = 366

    /// The `from`/`to` days of a usage query, `YYYY-MM-DD`, defaulting to the 30 days up to `today`.
    static func usageDays(from: String?, to: String?, today: Date, timeZone: TimeZone) throws -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var local = Calendar(identifier: .gregorian)
        local.timeZone = timeZone
        let todayParts = local.dateComponents([.year, .month, .day], from: today)
        let end =
            try to.map { try day($0, field: "to", calendar: calendar) }
            ?? calendar.date(from: DateComponents(year: todayParts.year, month: todayParts.month, day: todayParts.day))
            ?? today
        let start =
            try from.map { try day($0, field: "from", calendar: calendar) }
            ?? calendar.date(byAdding: .day, value: -30, to: end) ?? end
        guard start <= end else { throw APIError.invalid("from must not be after to.") }
        let span = calendar.dateComponents([.day], from: start, to: end).day ?? 0
        guard span <= maxUsageDays else {
            throw APIError.invalid("from and to may be at most \(maxUsageDays) days apart.")
        }
        return (text(start, calendar), text(end, calendar))
    }

    private static func day(_ text: String, field: String, calendar: Calendar) throws -> Date {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1000...2999).contains(year), (1...12).contains(month), (1...31).contains(day),
            let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            case let back = calendar.dateComponents([.year, .month, .day], from: date),
            back.year == year, back.month == month, back.day == day
        else { throw APIError.invalid("\(field) must be a calendar day, YYYY-MM-DD.") }
        return date
    }

    private static func text(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }
}
