import Foundation

/// The `mock` provider's answers to the runtime's pipelines: when the system message names one of their
/// schemas (`controlplane.<name>.v1`), the answer is JSON of that schema, worked out from the request by
/// plain rules (promises in commit messages, files that usually hold secrets, risky words), so the whole
/// flow gives plausible, deterministic results offline.
enum MockAnalyst {
    static func answer(system: String, user: String) -> String? {
        guard
            let schema = ["commitments", "security_review", "commit_note", "push_summary", "intervention"].first(
                where: {
                    system.contains("controlplane.\($0).v1")
                })
        else { return nil }
        let input = (try? JSONSerialization.jsonObject(with: Data(user.utf8))) as? [String: Any] ?? [:]
        let message = input["message"] as? String ?? ""
        let files = ["added", "modified", "removed"].flatMap { input[$0] as? [String] ?? [] }
        let output: [String: Any]
        switch schema {
        case "commitments": output = ["commitments": commitments(in: message)]
        case "security_review": output = securityReview(message: message, files: files)
        case "commit_note": output = note(message: message, input: input)
        case "intervention": output = intervention(input)
        default: output = summary(notes: input["notes"] as? [String] ?? [])
        }
        guard let data = try? JSONSerialization.data(withJSONObject: output, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static let promise = try? NSRegularExpression(
        pattern:
            #"\b(i|we)('ll| will| shall| am going to| are going to)\b|\btodo\b|\bwill (add|fix|follow|write|update|remove|ship|finish|send|document|test)\b|\bpromise\b"#,
        options: [.caseInsensitive])
    static let due = try? NSRegularExpression(
        pattern:
            #"\b(?:(?:by|before|until|on|due)\s+)?((?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|tomorrow|tonight|today|end of (?:the )?(?:day|week|month)|next week|\d{4}-\d{2}-\d{2})\b|\bin (\d{1,3}) days?\b"#,
        options: [.caseInsensitive])

    static func commitments(in message: String) -> [[String: Any]] {
        let sentences = message.split(whereSeparator: { ".!?\n".contains($0) }).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return sentences.compactMap { sentence -> [String: Any]? in
            let range = NSRange(sentence.startIndex..., in: sentence)
            guard !sentence.isEmpty, let promise, promise.firstMatch(in: sentence, range: range) != nil else {
                return nil
            }
            var item: [String: Any] = [
                "text": String(sentence.prefix(300)), "owner": "author",
                "confidence": sentence.range(of: #"\b(i|we)\b"#, options: [.regularExpression, .caseInsensitive]) != nil
                    ? 0.9 : 0.6,
            ]
            if let due, let match = due.firstMatch(in: sentence, range: range) {
                if let when = Range(match.range(at: 1), in: sentence) {
                    item["due_text"] = sentence[when].lowercased()
                } else if let days = Range(match.range(at: 2), in: sentence) {
                    item["due_text"] = "in \(sentence[days]) days"
                }
            }
            return item
        }
    }

    static func securityReview(message: String, files: [String]) -> [String: Any] {
        var findings: [[String: Any]] = []
        let secretFiles = [".env", ".pem", ".key", "id_rsa", "credentials", "secrets", ".p12"]
        for file in files where secretFiles.contains(where: { file.lowercased().contains($0) }) {
            findings.append([
                "severity": "high", "category": "secret", "file": file,
                "description": "A file that usually holds secrets was committed.",
            ])
        }
        let rules: [(String, String, String)] = [
            (#"\b(password|secret|api[ _-]?key|token|credential)s?\b"#, "secret", "The change mentions secrets."),
            (
                #"\b(sql|query|exec|shell|eval|deserializ\w*)\b"#, "injection",
                "The change touches code that runs input."
            ),
            (
                #"\b(auth\w*|login|session|jwt|oauth|permission|role)s?\b"#, "auth_change",
                "The change touches authentication or permissions."
            ),
        ]
        for (pattern, category, description) in rules
        where message.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil {
            findings.append(["severity": "medium", "category": category, "description": description])
        }
        let risk =
            findings.contains { $0["severity"] as? String == "high" } ? "high" : findings.isEmpty ? "none" : "medium"
        return ["findings": findings, "risk": risk]
    }

    static func note(message: String, input: [String: Any]) -> [String: Any] {
        let title = message.split(separator: "\n").first.map(String.init) ?? "(no message)"
        let count = { (key: String) in (input[key] as? [String])?.count ?? 0 }
        let files = ["added", "modified", "removed"].flatMap { input[$0] as? [String] ?? [] }
        let areas = Set(files.map { $0.split(separator: "/").first.map(String.init) ?? $0 }).sorted()
        return [
            "note": "\(title.prefix(200)) (+\(count("added")) ~\(count("modified")) -\(count("removed")) files)",
            "areas": areas,
        ]
    }

    /// A ping about an overdue commitment, in the tone asked for, to its owner or their manager.
    static func intervention(_ input: [String: Any]) -> [String: Any] {
        let text = input["commitment"] as? String ?? ""
        let repository = input["repository"] as? String ?? ""
        let due = input["due_date"] as? String ?? ""
        let owner = input["owner"] as? String ?? "the author"
        let quoted = "\u{201C}\(text.prefix(300))\u{201D} (\(repository), due \(due))"
        let message: String
        switch (input["audience"] as? String, input["tone"] as? String) {
        case ("manager", "formal"):
            message = "\(owner) committed to \(quoted). It has not been answered; your support may be needed."
        case ("manager", _):
            message = "Heads-up: \(owner) promised \(quoted) and has not answered a reminder. Could you check in?"
        case (_, "direct"):
            message = "\(quoted) is overdue. Done, or do you need help?"
        case (_, "formal"):
            message = "The commitment \(quoted) has passed its due date. Please confirm whether it is complete."
        default:
            message = "Hi! You said \(quoted). How is it going? Reply if it is done or if you could use a hand."
        }
        return ["message": message]
    }

    static func summary(notes: [String]) -> [String: Any] {
        let lead = notes.count == 1 ? "1 commit" : "\(notes.count) commits"
        return [
            "summary": "\(lead): " + notes.prefix(20).joined(separator: "; "), "impact": notes.isEmpty ? "none" : "low",
        ]
    }
}
