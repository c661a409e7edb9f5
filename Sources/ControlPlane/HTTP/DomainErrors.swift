import Auth
import Tenancy

extension APIError {
    /// The one table that turns domain errors of the lower modules into problems; nil for errors that
    /// are not expected outcomes (those are logged and answered as 500).
    init?(domain error: any Error) {
        switch error {
        case is InvalidCursor:
            self = .invalid("cursor is not a cursor of this list.")
        case is PasswordHasher.Busy:
            self = APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "Too many sign-ins are being checked right now; try again shortly.", retryAfter: 1)
        case AuthenticationError.tenantSuspended:
            self = .tenantSuspended
        case is AuthenticationError:
            self = .unauthenticated("The bearer token is invalid, expired or revoked.")
        default:
            return nil
        }
    }
}
