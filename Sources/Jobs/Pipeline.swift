/// A named sequence of LLM steps run over a push; an endpoint enables some of them.
public enum Pipeline: String, Sendable, CaseIterable, Comparable, Codable {
    case commitments
    case securityReview = "security_review"
    case changeSummary = "change_summary"

    public static func < (lhs: Pipeline, rhs: Pipeline) -> Bool { lhs.rawValue < rhs.rawValue }
}
