import PostgresNIO
import _ConnectionPoolModule

/// Postgres cannot be reached right now; the caller should try again in a moment (a 503 with
/// `Retry-After`).
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    /// Seconds after which a retry is worth it.
    public let retryAfterSeconds: Int
    public init(retryAfterSeconds: Int = 2) { self.retryAfterSeconds = retryAfterSeconds }
    public var description: String { "the database is unavailable" }

    /// Whether `error` says the connection or the server went away (rather than the statement failing).
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        // The pool's own errors (shut down, circuit open, lease cancelled) reach callers of `withConnection`
        // unwrapped.
        if error is DatabaseUnavailable || error is StatementTimedOut || error is ConnectionPoolError { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }
}
