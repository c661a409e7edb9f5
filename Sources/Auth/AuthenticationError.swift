/// Why a request could not be authenticated.
public enum AuthenticationError: Error, Sendable, Equatable {
    /// No usable token (401): missing, malformed, badly signed, expired, revoked.
    case unauthenticated(TokenError?)
    /// The token is fine but its tenant is suspended (403 `tenant_suspended`).
    case tenantSuspended
}
