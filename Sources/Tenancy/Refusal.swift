/// A domain rule's refusal of what a caller asked: an expected outcome, not a failure. Every module's
/// services throw these; the HTTP shell answers each kind with its problem (403, 409, 400, 404, 401, 429) and
/// the detail as written here, so a rule's wording lives with the rule.
public enum Refusal: Error, Sendable, Equatable {
    /// The caller may not do this.
    case forbidden(String)
    /// It contradicts the tenant's state as it is now.
    case conflict(String)
    /// The request names or asks for something it may not.
    case invalid(String)
    /// What it names does not exist in this tenant (`what` is the kind of thing: `user`, `key`).
    case notFound(String)
    /// The caller's own credential no longer stands.
    case unauthenticated(String)
    /// Too many attempts: another may be made `retryAfter` seconds from now.
    case limited(retryAfter: Int, String)
}
