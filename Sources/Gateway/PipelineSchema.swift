import Foundation

/// What a pipeline step asks a model for: JSON of one named schema, stated in the system message
/// (whose marker `controlplane.<name>.v1` the `mock` provider answers to), and checked on the way back.
public enum PipelineSchema: String, Sendable {
    case commitments
    case securityReview = "security_review"
    case commitNote = "commit_note"
    case pushSummary = "push_summary"
    case intervention

    public var marker: String { "controlplane.\(rawValue).v1" }

    public var systemPrompt: String {
        let task: String
        switch self {
        case .commitments:
            task = """
                Find the promises made in this commit message: work someone says they will do. For each give \
                the sentence (`text`), who owns it (`owner`: "author" for the committer, or a name or @handle \
                the message names), the due phrase as written (`due_text`, e.g. "by Friday", or leave it out), \
                and your `confidence` from 0 to 1. Answer {"commitments": [...]}, an empty list if there is none.
                """
        case .securityReview:
            task = """
                Review this commit for risky changes: committed secrets, injection (SQL, shell, eval), changes to \
                authentication or permissions. Answer {"findings": [{"severity": "low|medium|high|critical", \
                "category": "secret|injection|auth_change|other", "file": "path (optional)", "description": \
                "..."}], "risk": "none|low|medium|high|critical"}.
                """
        case .commitNote:
            task = """
                Say in one line what this commit changes. Answer {"note": "...", "areas": ["top-level paths"]}.
                """
        case .pushSummary:
            task = """
                Summarise the push these commit notes describe and what it may affect. Answer \
                {"summary": "...", "impact": "none|low|medium|high"}.
                """
        case .intervention:
            task = """
                Write a short chat message (at most three sentences) about a commitment made in a commit message \
                whose due day has passed with no commit closing it. `audience` is "owner" (write to them) or \
                "manager" (tell their manager, who may want to help); use the `tone` given (friendly, direct \
                or formal), quote the commitment, name the repository and the due date, and ask whether it is \
                done or needs help. Answer {"message": "..."}.
                """
        }
        return "You analyse git commits for ControlPlane. Schema \(marker). \(task) Answer with that JSON only."
    }
}

/// A model's answer that is not the JSON its schema asks for.
public struct MalformedAnswer: Error, Sendable {
    public let reason: String

    public init(reason: String) { self.reason = reason }
}

/// Reading and checking a model's JSON answers.
public enum PipelineAnswer {
    /// The JSON object in `text` (a fenced block or surrounding prose around it is tolerated).
    public static func object(_ text: String) throws -> [String: Any] {
        var body = Substring(text)
        if let open = body.firstIndex(of: "{"), let close = body.lastIndex(of: "}"), open < close {
            body = body[open...close]
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else {
            throw MalformedAnswer(reason: "the answer is not a JSON object")
        }
        return object
    }

    public static func string(_ object: [String: Any], _ key: String, maxLength: Int, required: Bool = true) throws
        -> String?
    {
        guard let value = object[key] else {
            if required { throw MalformedAnswer(reason: "`\(key)` is missing") }
            return nil
        }
        if value is NSNull, !required { return nil }
        guard let text = value as? String, text.count <= maxLength else {
            throw MalformedAnswer(reason: "`\(key)` is not text of at most \(maxLength) characters")
        }
        return text
    }

    public static func list(_ object: [String: Any], _ key: String, max: Int) throws -> [[String: Any]] {
        guard let items = object[key] as? [Any], items.count <= max else {
            throw MalformedAnswer(reason: "`\(key)` is not a list of at most \(max) items")
        }
        return try items.map {
            guard let item = $0 as? [String: Any] else { throw MalformedAnswer(reason: "`\(key)` holds a non-object") }
            return item
        }
    }

    public static func oneOf(_ value: String?, _ allowed: [String], field: String) throws -> String {
        guard let value, allowed.contains(value.lowercased()) else {
            throw MalformedAnswer(reason: "`\(field)` is not one of \(allowed.joined(separator: ", "))")
        }
        return value.lowercased()
    }

    public static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
