import Foundation

/// Whether a later commit closes a promise: its message names what the promise was about. The promise's
/// content words (not the promising ones, "I'll ... by Friday", nor short or common words) are compared
/// with the commit's words, each reduced to a crude stem so that "fix" meets "fixed" and "tests" meets
/// "test"; at least two thirds of them, and at least one, must appear.
public enum CommitmentClosure {
    public static func closes(_ subject: String, promise: String) -> Bool {
        let wanted = Set(contentWords(promise))
        guard !wanted.isEmpty else { return false }
        let found = wanted.intersection(Set(contentWords(subject)))
        return found.count * 3 >= wanted.count * 2
    }

    /// The words that carry meaning, stemmed.
    static func contentWords(_ text: String) -> [String] {
        text.lowercased()
            .split(whereSeparator: { !($0.isLetter || $0.isNumber) })
            .map(String.init)
            .filter { $0.count >= 3 && !ignored.contains($0) }
            .map(stem)
    }

    /// "fixed", "fixes", "fixing" → "fix"; "tests" → "test".
    static func stem(_ word: String) -> String {
        for suffix in ["ing", "ed", "es", "s"] where word.count > suffix.count + 2 && word.hasSuffix(suffix) {
            return String(word.dropLast(suffix.count))
        }
        return word
    }

    /// Words of promising and of time, and the commonest English words.
    static let ignored: Set<String> = [
        "the", "and", "for", "but", "not", "with", "this", "that", "these", "those", "will", "shall", "going",
        "promise", "todo", "later", "soon", "tomorrow", "today", "tonight", "week", "weeks", "month", "next", "end",
        "before", "until", "due", "day", "days", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "from", "into", "our", "your", "its", "it's", "are", "was", "were", "has", "have", "had", "also",
        "then", "than", "some", "all", "any", "just", "now", "out", "about", "after", "too", "very", "can", "could",
        "should", "would", "i'll", "we'll", "ill", "well", "get", "got", "make", "sure",
    ]
}
