import Foundation

/// Turns a due phrase of a commit message ("by Friday", "tomorrow", "end of month", "in 3 days",
/// "2026-12-01") into a calendar date, counted from the commit's own local date: its timestamp carries
/// the committer's offset, so "Friday" means the committer's Friday.
public enum DueDateResolver {
    /// `YYYY-MM-DD`, or nil when the phrase or the timestamp is not understood.
    public static func resolve(_ phrase: String, committedAt timestamp: String) -> String? {
        guard let start = localDate(timestamp) else { return nil }
        let text = phrase.lowercased().trimmingCharacters(in: .whitespaces)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        guard let day = calendar.date(from: start) else { return nil }
        let weekday = calendar.component(.weekday, from: day)  // 1 = Sunday ... 7 = Saturday
        func plus(_ days: Int) -> Date? { calendar.date(byAdding: .day, value: days, to: day) }

        let target: Date?
        switch text {
        case "today", "tonight", "end of day", "end of the day": target = day
        case "tomorrow": target = plus(1)
        case "next week": target = plus((9 - weekday) % 7 == 0 ? 7 : (9 - weekday) % 7)
        case "end of week", "end of the week": target = plus((6 - weekday + 7) % 7)
        case "end of month", "end of the month":
            let range = calendar.range(of: .day, in: .month, for: day)
            target = range.map { plus($0.count - (start.day ?? 1)) } ?? nil
        default:
            if let date = isoDate(text) {
                target = calendar.date(from: date)
            } else if text.hasPrefix("in "), let days = Int(text.dropFirst(3).split(separator: " ").first ?? ""),
                (0...366).contains(days)
            {
                target = plus(days)
            } else if let named = weekdays.firstIndex(where: { text.hasSuffix($0) }) {
                // The next such day on or after the commit's day; "next Friday" is the one a week later.
                var ahead = (named + 1 - weekday + 7) % 7
                if text.hasPrefix("next ") { ahead += 7 }
                target = plus(ahead)
            } else {
                target = nil
            }
        }
        guard let target else { return nil }
        let parts = calendar.dateComponents([.year, .month, .day], from: target)
        guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, dayOfMonth)
    }

    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// The committer's local calendar date: the date part of an ISO 8601 timestamp with an offset.
    static func localDate(_ timestamp: String) -> DateComponents? {
        isoDate(String(timestamp.prefix(10)))
    }

    static func isoDate(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]),
            let day = Int(parts[2]), (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return DateComponents(year: year, month: month, day: day)
    }
}
