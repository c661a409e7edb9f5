import Crypto
import Foundation
import PostgresNIO

/// A fixed-window counter in Postgres, shared by every replica: at most `limit` hits per subject in each
/// `window`. Subjects (client addresses, emails) are stored only as SHA-256 digests.
public struct FixedWindowThrottle: Sendable {
    /// The outcome of one hit.
    public enum Decision: Sendable, Equatable {
        case allowed(remaining: Int)
        /// Over the limit until the window ends, `retryAfter` seconds from now (at least 1).
        case limited(retryAfter: Int)
    }

    public let scope: String
    public let limit: Int
    public let window: Duration

    public init(scope: String, limit: Int, window: Duration) {
        self.scope = scope
        self.limit = limit
        self.window = window
    }

    private func digest(_ subject: String) -> Data {
        Data(SHA256.hash(data: Data((scope + "\u{0}" + subject).utf8)))
    }

    /// Counts one hit for `subject` atomically (one upsert) and says whether it is within the limit.
    public func hit(_ subject: String, on connection: PostgresConnection) async throws -> Decision {
        let seconds = Double(window.components.seconds)
        let rows = try await connection.query(
            """
            INSERT INTO throttle_windows AS t (scope, subject_hash, window_start, hits, expires_at)
            VALUES (\(scope), \(digest(subject)), now(), 1, now() + make_interval(secs => \(seconds)))
            ON CONFLICT (scope, subject_hash) DO UPDATE SET
                hits = CASE WHEN t.window_start <= now() - make_interval(secs => \(seconds)) THEN 1 ELSE t.hits + 1 END,
                window_start = CASE WHEN t.window_start <= now() - make_interval(secs => \(seconds))
                                    THEN now() ELSE t.window_start END,
                expires_at = CASE WHEN t.window_start <= now() - make_interval(secs => \(seconds))
                                  THEN now() + make_interval(secs => \(seconds)) ELSE t.expires_at END
            RETURNING hits, EXTRACT(EPOCH FROM (window_start + make_interval(secs => \(seconds)) - now()))::float8
            """, logger: connection.logger)
        for try await (hits, remainingSeconds) in rows.decode((Int, Double).self) {
            if hits > limit {
                let seconds = remainingSeconds.roundedUp(within: 1...max(1, window.components.seconds))
                return .limited(retryAfter: Int(seconds))
            }
            return .allowed(remaining: limit - hits)
        }
        return .allowed(remaining: limit)
    }

    /// Forgets `subject`'s window, e.g. after a successful login.
    public func reset(_ subject: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "DELETE FROM throttle_windows WHERE scope = \(scope) AND subject_hash = \(digest(subject))",
            logger: connection.logger)
    }

    /// Deletes every window that has ended, whatever its scope; returns how many.
    public static func pruneExpired(on connection: PostgresConnection) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(
            "DELETE FROM throttle_windows WHERE expires_at < now() RETURNING 1", logger: connection.logger)
        {
            count += 1
        }
        return count
    }
}
