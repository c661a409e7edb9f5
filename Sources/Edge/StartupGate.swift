import Persistence
import Synchronization

/// Opens once the checks a server needs before it answers API calls have passed: the database role is
/// safe for row-level security and the signing keys are loaded. Until then API calls wait for it (a
/// server that has just started answers as soon as it can), except while the last try found the
/// database unreachable: then they are answered 503 at once.
package final class StartupGate: Sendable {
    private struct State {
        var open = false
        var unreachable = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    package var isOpen: Bool { state.withLock { $0.open } }

    package init() {}

    package func open() { change { $0.open = true } }

    /// The last try could not reach the database.
    package func markUnreachable() { change { $0.unreachable = true } }

    /// Applies `update` and lets every waiting call look again.
    private func change(_ update: (inout State) -> Void) {
        let waiting = state.withLock { state in
            update(&state)
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Whether the gate is open, waiting at most `limit` for it (not at all while the database is known
    /// to be unreachable).
    package func waitOpen(atMost limit: Duration) async -> Bool {
        let (open, unreachable) = state.withLock { ($0.open, $0.unreachable) }
        if open || unreachable { return open }
        _ = try? await Abandon.within(limit) { await self.openedOrUnreachable() }
        return isOpen
    }

    private func openedOrUnreachable() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.open || state.unreachable { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
