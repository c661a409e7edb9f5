import ServiceLifecycle
import Synchronization

/// How late this process's tasks wake: every `interval` a task sleeps on an event loop's timer and
/// measures how much later than asked it ran again. The timer fires on time on its own thread, so the
/// delay is the wait for a thread of Swift's cooperative executor (as many threads as cores): a blocking
/// call on it, or more work than it can run, shows here before it shows as a stall. Read as
/// `controlplane_executor_lag_seconds` and in `/v1/admin/health`.
public final class ExecutorLagMonitor: Service, Sendable {
    private struct State {
        var sinceRead: Duration = .zero
        /// Samples above a millisecond, newest last, for the last `window`.
        var recent: [(at: ContinuousClock.Instant, lag: Duration)] = []
    }

    public let interval: Duration
    /// How far back `recentMaximum` looks.
    public let window: Duration
    private let state = Mutex(State())

    public init(interval: Duration = .milliseconds(250), window: Duration = .seconds(60)) {
        self.interval = interval
        self.window = window
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let asked = ContinuousClock.now
                guard (try? await Pause.for(self.interval)) != nil else { break }
                self.record(max(.zero, ContinuousClock.now - asked - self.interval))
            }
        }
    }

    func record(_ lag: Duration, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.sinceRead = max(state.sinceRead, lag)
            if lag > .milliseconds(1) { state.recent.append((now, lag)) }
            state.recent.removeAll { now - $0.at > window }
        }
    }

    /// The longest lag since the last call (for a scrape), and starts again from zero.
    public func takeMaximum() -> Duration {
        state.withLock { state in
            defer { state.sinceRead = .zero }
            return state.sinceRead
        }
    }

    /// The longest lag over the last `window`.
    public var recentMaximum: Duration {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.recent.filter { now - $0.at <= window }.map(\.lag).max() ?? .zero
        }
    }
}
