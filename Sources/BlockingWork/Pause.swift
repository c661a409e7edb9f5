import NIOCore
import NIOPosix

/// Waits on an NIO event loop's timer instead of `Task.sleep`, which goes through libdispatch's timers.
/// A test process found hung under load had libdispatch's continuous-clock timerfd expired and never
/// read, so every continuous-clock sleep in it waited for ever; NIO's event loops read their own timers.
/// Cancellation ends a pause at once with `CancellationError`, as it ends `Task.sleep`.
public enum Pause {
    /// Waits `duration` (negative durations do not wait; longer than a year is a year).
    public static func `for`(_ duration: Duration) async throws {
        let bounded = min(max(duration, .zero), .seconds(31_536_000))
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(bounded)) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }

    /// Waits until `instant` of the continuous clock.
    public static func until(_ instant: ContinuousClock.Instant) async throws {
        try await self.for(instant - .now)
    }
}
