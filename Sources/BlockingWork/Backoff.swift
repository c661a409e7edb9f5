import Foundation

/// The one backoff: the pause before attempt `n + 1` is `base` × `factor`^(n − 1), at most `cap`, times a
/// random factor from `jitter` (so retries that failed together do not come back together), and never
/// above `cap`. Worked in seconds as a `Double`, so no attempt count can overflow it.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var factor: Double
    public var cap: Duration
    public var jitter: ClosedRange<Double>

    public init(base: Duration, factor: Double = 2, cap: Duration, jitter: ClosedRange<Double> = 0.8...1.2) {
        self.base = base
        self.factor = max(1, factor)
        self.cap = cap
        self.jitter = jitter
    }

    /// The pause before the attempt after attempt `attempt` (1 for the pause after the first).
    public func delay(after attempt: Int) -> Duration {
        let plain = min(cap.seconds, base.seconds * pow(factor, Double(min(max(0, attempt - 1), 64))))
        return .seconds(min(cap.seconds, plain * Double.random(in: jitter)))
    }
}
