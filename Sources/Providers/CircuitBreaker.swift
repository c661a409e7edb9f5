import Foundation
import Synchronization

/// One provider's health as this process sees it: after `threshold` consecutive faults (5xx, timeouts,
/// network) the circuit opens and calls fail at once for `cooldown`; then one probe is let through
/// (half-open), whose outcome closes or reopens it.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    struct Status {
        var state = State.closed
        var failures = 0
        var openedAt = ContinuousClock.now
        var probing = false
        var touched = ContinuousClock.now
    }

    let threshold: Int
    let cooldown: Duration
    private let status = Mutex(Status())

    public init(threshold: Int = 5, cooldown: Duration = .seconds(30)) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
    }

    /// Closed with no failure counted: forgetting it loses nothing.
    public var isIdle: Bool { status.withLock { $0.state == .closed && $0.failures == 0 } }

    /// When it was last asked or told anything.
    public var touched: ContinuousClock.Instant { status.withLock { $0.touched } }

    public var state: State {
        status.withLock { status in
            if status.state == .open, ContinuousClock.now - status.openedAt >= cooldown { return .halfOpen }
            return status.state
        }
    }

    /// Whether a call may go out now; a half-open breaker lets exactly one through until it reports.
    public func allow() -> Bool {
        status.withLock { status in
            status.touched = .now
            switch status.state {
            case .closed:
                return true
            case .open:
                guard ContinuousClock.now - status.openedAt >= cooldown else { return false }
                status.state = .halfOpen
                status.probing = true
                return true
            case .halfOpen:
                if status.probing { return false }
                status.probing = true
                return true
            }
        }
    }

    public func recordSuccess() {
        status.withLock { $0 = Status() }
    }

    public func recordFailure() {
        status.withLock { status in
            status.probing = false
            status.failures += 1
            if status.state == .halfOpen || status.failures >= threshold {
                status.state = .open
                status.openedAt = .now
            }
        }
    }

    /// A call that ended without saying anything about the provider's health (e.g. a 400).
    public func recordNeutral() {
        status.withLock { status in
            status.probing = false
            if status.state == .halfOpen { status.state = .closed }
        }
    }
}
