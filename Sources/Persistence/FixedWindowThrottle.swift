import Crypto
import Foundation
import PostgresNIO

/// A fixed-window counter in Postgres, shared by every replica: at most `limit` hits per subject in each
/// `window`. Subjects (client addresses, emails) are stored only as SHA-256 digests. A subject found over
/// its limit is remembered on this replica until its window ends (`remembered`), so callers can refuse a
/// flood of attempts past a limit without any database work.
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
    private let refusals = RefusalMemory<Data, Void>()

    public init(scope: String, limit: Int, window: Duration) {
        self.scope = scope
        self.limit = limit
        self.window = window
    }

    /// The refusal this replica remembers for `subject`, until its window ends; nil when it has none.
    public func remembered(_ subject: String) -> Decision? {
        guard let (_, left) = refusals.refusal(for: digest(subject)) else { return nil }
        return .limited(retryAfter: retryAfter(left))
    }

    /// The stored form of `subject` in this throttle's scope.
    public func digest(_ subject: String) -> Data {
        Data(SHA256.hash(data: Data((scope + "\u{0}" + subject).utf8)))
    }

    /// The window's length in seconds, as `throttle_hit` takes it.
    public var windowSeconds: Double { Double(window.components.seconds) }

    /// Counts one hit for `subject` atomically (`throttle_hit`, one upsert) and says whether it is within
    /// the limit; a refusal is remembered until the window ends.
    public func hit(_ subject: String, on connection: PostgresConnection) async throws -> Decision {
        let digest = digest(subject)
        let rows = try await connection.statement(
            "SELECT hits, resets_in FROM throttle_hit(\(scope), \(digest), \(windowSeconds))",
            logger: connection.logger)
        for try await (hits, resetsIn) in rows.decode((Int, Double).self) {
            let decision = decision(hits: hits, resetsIn: resetsIn)
            if case .limited = decision {
                refusals.remember((), for: digest, seconds: resetsIn, atMost: windowSeconds)
            }
            return decision
        }
        return .allowed(remaining: limit)
    }

    /// Counts one hit for `subject` in a platform transaction of its own, or, once this replica has
    /// seen `subject` refused, answers that refusal from memory without one.
    public func count(_ subject: String, in database: Database) async throws -> Decision {
        if let refused = remembered(subject) { return refused }
        return try await database.transaction(.platform) { try await hit(subject, on: $0) }
    }

    /// The decision for a window that now holds `hits` and ends in `resetsIn` seconds.
    public func decision(hits: Int, resetsIn: Double) -> Decision {
        guard hits > limit else { return .allowed(remaining: limit - max(0, hits)) }
        return .limited(retryAfter: retryAfter(resetsIn))
    }

    private func retryAfter(_ resetsIn: Double) -> Int {
        resetsIn.roundedUp(atLeast: 1, atMost: Int(clamping: window.components.seconds))
    }

    /// Forgets `subject`'s window, e.g. after a successful login.
    public func reset(_ subject: String, on connection: PostgresConnection) async throws {
        refusals.forget(digest(subject))
        try await connection.statement(
            "DELETE FROM throttle_windows WHERE scope = \(scope) AND subject_hash = \(digest(subject))",
            logger: connection.logger)
    }

    /// Deletes every window that has ended, whatever its scope; returns how many.
    public static func pruneExpired(on connection: PostgresConnection) async throws -> Int {
        var count = 0
        for try await _ in try await connection.statement(
            "DELETE FROM throttle_windows WHERE expires_at < now() RETURNING 1", logger: connection.logger)
        {
            count += 1
        }
        return count
    }
}
