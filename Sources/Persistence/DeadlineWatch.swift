import NIOCore
import NIOPosix
import Synchronization

/// The deadlines of every statement in flight in this process, checked by one sweep every `tick` instead
/// of a timer each: arming and cancelling an event-loop timer per statement (a heap insertion and, from
/// another thread, a wake-up of the loop) cost more than the bookkeeping here, a lock and a dictionary
/// entry. A deadline fires at most one `tick` late.
final class DeadlineWatch: Sendable {
    /// The process's watch (statement deadlines are at least 100 ms; a 50 ms sweep is well within them).
    static let shared = DeadlineWatch(tick: .milliseconds(50))

    private struct Watched {
        let deadline: NIODeadline
        let expire: @Sendable () -> Void
    }

    private struct State {
        var watched: [Int: Watched] = [:]
        var nextID = 0
        var sweeping = false
    }

    private let tick: TimeAmount
    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = TimeAmount(tick)
    }

    /// Calls `expire` once `deadline` has passed, unless `unwatch` is called with the answer first.
    func watch(until deadline: NIODeadline, _ expire: @escaping @Sendable () -> Void) -> Int {
        let (id, startSweeping) = state.withLock { state -> (Int, Bool) in
            defer { state.nextID &+= 1 }
            state.watched[state.nextID] = Watched(deadline: deadline, expire: expire)
            let start = !state.sweeping
            state.sweeping = true
            return (state.nextID, start)
        }
        if startSweeping {
            MultiThreadedEventLoopGroup.singleton.any().scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
                self.sweep()
            }
        }
        return id
    }

    /// Stops watching `id` (its work answered in time).
    func unwatch(_ id: Int) {
        _ = state.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// Deadlines watched now (for tests).
    var count: Int { state.withLock { $0.watched.count } }

    private func sweep() {
        let now = NIODeadline.now()
        let expired = state.withLock { state -> [Watched] in
            var expired: [Watched] = []
            for (id, watched) in state.watched where watched.deadline <= now {
                expired.append(watched)
                state.watched[id] = nil
            }
            return expired
        }
        for watched in expired { watched.expire() }
    }
}
