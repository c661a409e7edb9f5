import BlockingWork
import Foundation
import Synchronization

/// The wall clock that sessions and tokens are judged by. In production it is the system clock; tests
/// move it forward to see idle and absolute expiry happen without waiting hours.
public final class ServerClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    public init() {}

    /// The system clock, never moved.
    public static let system = ServerClock()

    /// The time now, as this clock tells it.
    public func now() -> Date {
        Date().addingTimeInterval(offset.withLock { $0 })
    }

    /// Moves the clock forward (a test's hours passing in an instant).
    public func advance(by duration: Duration) {
        offset.withLock { $0 += duration.seconds }
    }
}
