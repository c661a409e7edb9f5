import Billing
import BlockingWork
import Gateway
import Logging
import Persistence
import ServiceLifecycle

/// Deletes what has outlived its use, every `interval`: idempotency records older than a day (in a
/// maintenance transaction, whose policy allows nothing else) and throttle windows that have ended; and
/// releases budget reservations whose holder died (past their lifetime).
struct Housekeeping: Service {
    let database: Database
    let budget: TokenBudget
    /// Reloaded from the operator's `model_prices` on every pass.
    var prices: PriceTable? = nil
    let interval: Duration
    let logger: Logger

    /// One pass; returns how many rows went.
    @discardableResult
    func prune() async throws -> (idempotency: Int, throttles: Int, reservations: Int) {
        let idempotency = try await database.transaction(.maintenance) {
            try await IdempotencyStore.pruneExpired(on: $0)
        }
        let throttles = try await database.transaction(.platform) { try await FixedWindowThrottle.pruneExpired(on: $0) }
        let reservations = try await budget.sweepExpired()
        try await prices?.refresh(from: database)
        return (idempotency, throttles, reservations)
    }

    func run() async throws {
        await Periodic.run(every: interval, onShutdown: .cancelThePass, logger: logger, failure: "housekeeping failed")
        {
            let pruned = try await prune()
            if pruned.idempotency + pruned.throttles + pruned.reservations > 0 {
                logger.info(
                    "pruned expired rows",
                    metadata: [
                        "idempotency_records": "\(pruned.idempotency)", "throttle_windows": "\(pruned.throttles)",
                        "expired_reservations": "\(pruned.reservations)",
                    ])
            }
        }
    }
}
