import Logging
import ServiceLifecycle

/// The one loop behind every periodic pass (the queue relay, enqueue notes, housekeeping, gauges,
/// retention, key usage, the worker's reaper, the intervention scheduler): a pass, a pause of `interval`
/// on an event loop's timer (`Pause`), again, until the task is cancelled or the service group starts
/// shutting down gracefully, which cuts a pause short. A pass that throws is logged and the next comes
/// after the pause; one that answers `.again` (it did a full batch) is followed at once.
public enum Periodic {
    /// When the first pass runs.
    public enum Start: Sendable {
        case atOnce
        /// After one interval: a rollout of many replicas does not start them all on the same work at once.
        case afterOneInterval
    }

    /// What a pass asks of the loop.
    public enum Next: Sendable {
        case pause
        case again
    }

    /// What happens to a pass in progress when graceful shutdown begins.
    public enum OnShutdown: Sendable {
        /// It finishes (a flush, a relay); only the pause is cut short.
        case finishThePass
        /// It is cancelled too (a long pass that its next run takes up again).
        case cancelThePass
    }

    public static func runInBatches(
        every interval: Duration, start: Start = .atOnce, onShutdown: OnShutdown = .finishThePass,
        logger: Logger, failure: Logger.Message, _ pass: @escaping @Sendable () async throws -> Next
    ) async {
        @Sendable func loop() async {
            if case .afterOneInterval = start { await sleepUnlessShuttingDown(interval) }
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    if try await pass() == .again { continue }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning(failure, metadata: ["error": "\(error)"])
                }
                await sleepUnlessShuttingDown(interval)
            }
        }
        switch onShutdown {
        case .finishThePass: await loop()
        case .cancelThePass: await cancelWhenGracefulShutdown { await loop() }
        }
    }

    /// `runInBatches` for a pass that always pauses after it.
    public static func run(
        every interval: Duration, start: Start = .atOnce, onShutdown: OnShutdown = .finishThePass,
        logger: Logger, failure: Logger.Message, _ pass: @escaping @Sendable () async throws -> Void
    ) async {
        await runInBatches(every: interval, start: start, onShutdown: onShutdown, logger: logger, failure: failure) {
            () async throws -> Next in
            try await pass()
            return .pause
        }
    }
}
