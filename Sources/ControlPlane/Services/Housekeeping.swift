import Logging
import ServiceLifecycle
import Tenancy

/// Deletes what has outlived its use, every `interval`: idempotency records older than a day (in a
/// maintenance transaction, whose policy allows nothing else) and throttle windows that have ended.
struct Housekeeping: Service {
    let database: Database
    let interval: Duration
    let logger: Logger

    /// One pass; returns how many rows went.
    @discardableResult
    func prune() async throws -> (idempotency: Int, throttles: Int) {
        let idempotency = try await database.transaction(.maintenance) {
            try await IdempotencyStore.pruneExpired(on: $0)
        }
        let throttles = try await database.transaction(.platform) { try await FixedWindowThrottle.pruneExpired(on: $0) }
        return (idempotency, throttles)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let pruned = try await prune()
                if pruned.idempotency + pruned.throttles > 0 {
                    logger.info(
                        "pruned expired rows",
                        metadata: [
                            "idempotency_records": "\(pruned.idempotency)", "throttle_windows": "\(pruned.throttles)",
                        ])
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
