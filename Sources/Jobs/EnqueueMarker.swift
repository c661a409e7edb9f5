import BlockingWork
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Synchronization

/// Notes in Postgres, in batches, which jobs reached Redis, so the relay only sends what never did. A
/// note lost to a crash costs one job id sent twice, which the worker's claim absorbs.
public final class EnqueueMarker: Service, Sendable {
    private let database: Database
    private let interval: Duration
    private let pending = Mutex<[QueuedJob]>([])

    public init(database: Database, interval: Duration = .milliseconds(100)) {
        self.database = database
        self.interval = interval
    }

    /// Queues a note for `jobs`; written within `interval`.
    public func mark(_ jobs: [QueuedJob]) {
        guard !jobs.isEmpty else { return }
        pending.withLock { $0.append(contentsOf: jobs) }
    }

    /// Writes every queued note now.
    public func flush() async throws {
        let batch = pending.withLock { queue -> [QueuedJob] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batch.isEmpty else { return }
        do {
            let rows = try await database.query(
                """
                SELECT jobs_mark_enqueued(
                    \(batch.map(\.tenantID.rawValue)), \(batch.map(\.jobID)), \(batch.map { Int32($0.attempts) }))
                """,
                logger: database.logger)
            for try await _ in rows {}
        } catch {
            // Kept for the next round; the relay would send them again otherwise.
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
    }

    public func run() async throws {
        await Periodic.run(
            every: interval, start: .afterOneInterval, logger: database.logger, failure: "enqueue notes not written"
        ) { try await self.flush() }
        try? await flush()
    }
}
