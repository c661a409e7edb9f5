import BlockingWork
import Foundation

/// How often one candidate is tried and how long to wait in between: exponential backoff with jitter,
/// or what the provider asked for (`Retry-After`, `retryDelay`) when it asked for no more than
/// `maxWait`; asked for longer, the candidate is given up at once for the next one.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Duration
    public var maxWait: Duration

    public init(attempts: Int = 2, baseDelay: Duration = .milliseconds(200), maxWait: Duration = .seconds(10)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxWait = maxWait
    }

    /// The pause before attempt `attempt + 1` after `error`, or nil when the candidate should be given up.
    public func delay(after error: ProviderError, attempt: Int) -> Duration? {
        guard error.isRetryable, attempt < attempts else { return nil }
        if let asked = error.retryAfter { return asked <= maxWait ? asked : nil }
        return Backoff(base: baseDelay, cap: maxWait, jitter: 0.5...1.0).delay(after: attempt)
    }
}
