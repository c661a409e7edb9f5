import Foundation
import Persistence

/// A tenant's request rate limit: a bucket of `burst` requests refilled at `requestsPerMinute`, so any
/// minute lets through at most `requestsPerMinute + burst`. The operator's caps bound what the tenant
/// may choose for itself.
public struct RateLimit: Sendable, Equatable {
    public var requestsPerMinute: Int
    public var burst: Int
    public var maxRequestsPerMinute: Int
    public var maxBurst: Int
    public var updatedAt: Date

    /// The largest value either setting accepts.
    public static let ceiling = 1_000_000

    public init(requestsPerMinute: Int, burst: Int, maxRequestsPerMinute: Int, maxBurst: Int, updatedAt: Date) {
        self.requestsPerMinute = requestsPerMinute
        self.burst = burst
        self.maxRequestsPerMinute = maxRequestsPerMinute
        self.maxBurst = maxBurst
        self.updatedAt = updatedAt
    }
}

/// What one take from a tenant's bucket decided, in the terms of the `RateLimit-*` headers.
public struct RateLimitDecision: Sendable, Equatable {
    public let allowed: Bool
    public let requestsPerMinute: Int
    public let burst: Int
    /// Requests that may be sent right now.
    public let remaining: Int
    /// Seconds until the bucket is full again, rounded up.
    public let resetSeconds: Int
    /// Seconds until a refused request may be retried, rounded up (at least 1 when refused).
    public let retryAfterSeconds: Int

    public init(
        allowed: Bool, requestsPerMinute: Int, burst: Int, remaining: Int, resetSeconds: Int, retryAfterSeconds: Int
    ) {
        self.allowed = allowed
        self.requestsPerMinute = requestsPerMinute
        self.burst = burst
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// A requested limit above the operator's cap.
public struct AboveCap: Error, Sendable, Equatable {
    public let field: String
    public let cap: Int64
    public init(field: String, cap: Int64) {
        self.field = field
        self.cap = cap
    }
}

/// Whole seconds from a number of seconds Postgres computed, rounded up, at least `minimum` and at most
/// 1e9.
func wholeSecondsRoundedUp(_ seconds: Double, atLeast minimum: Int = 0) -> Int {
    seconds.roundedUp(atLeast: minimum, atMost: 1_000_000_000)
}
