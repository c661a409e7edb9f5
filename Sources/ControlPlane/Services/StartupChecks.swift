import Auth
import BlockingWork
import Logging
import Persistence
import ServiceLifecycle
import Synchronization

/// Opens once the checks a server needs before it answers API calls have passed: the database role is
/// safe for row-level security and the signing keys are loaded. Until then API calls wait for it (a
/// server that has just started answers as soon as it can), except while the last try found the
/// database unreachable: then they are answered 503 at once.
final class StartupGate: Sendable {
    private struct State {
        var open = false
        var unreachable = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.open } }

    func open() { change { $0.open = true } }

    /// The last try could not reach the database.
    func markUnreachable() { change { $0.unreachable = true } }

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
    func waitOpen(atMost limit: Duration) async -> Bool {
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

/// Runs the startup checks until they pass, so that a server started while Postgres is away (a cluster
/// starting all at once, a maintenance window, a name that does not resolve yet) waits for it, answering
/// 503 and saying it is not ready, instead of exiting into a crash loop whose backoff outlasts the
/// outage. An unsafe database role is the one failure it does not wait out: the application stops.
struct StartupChecks: Service {
    let gate: StartupGate
    let retryInterval: Duration
    let logger: Logger
    let checks: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.checkUntilPassed() }
        // A service that returns would stop the application: this one has nothing left but to wait.
        try? await gracefulShutdown()
    }

    private func checkUntilPassed() async throws {
        var failures = 0
        while !Task.isCancelled, !gate.isOpen {
            do {
                try await checks()
                gate.open()
                if failures > 0 { logger.notice("the database answers; startup checks passed") }
            } catch let error where DatabaseUnavailable.isConnectionFailure(error) {
                gate.markUnreachable()
                // Said once, then every 40 tries (10 s at the default interval).
                if failures % 40 == 0 {
                    logger.warning(
                        "the database cannot be reached yet; API calls answer 503 until it can",
                        metadata: ["error": .string(String(describing: error))])
                }
                failures += 1
                try? await Pause.for(retryInterval)
            }
        }
    }
}
