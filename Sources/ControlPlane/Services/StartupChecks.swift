import Auth
import BlockingWork
import Edge
import Logging
import Persistence
import ServiceLifecycle
import Synchronization

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
