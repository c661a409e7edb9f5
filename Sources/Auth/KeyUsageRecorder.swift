import BlockingWork
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Synchronization

/// Records `last_used_at` of API keys without a write per request: uses are gathered in memory and
/// written every `interval` (one statement per thousand uses, whatever their tenants), and once more on
/// shutdown.
public final class KeyUsageRecorder: Service, Sendable {
    private let pending = Mutex([TenantID: [UUID: Date]]())
    private let database: Database
    private let interval: Duration
    private let logger: Logger

    public init(database: Database, interval: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func touch(_ keyID: UUID, tenantID: TenantID, at time: Date) {
        pending.withLock { pending in
            if let existing = pending[tenantID]?[keyID], existing >= time { return }
            pending[tenantID, default: [:]][keyID] = time
        }
    }

    /// Writes every gathered use now: one statement for up to `batchSize` uses, whatever their tenants
    /// (a statement per tenant made 2,000 durable transactions a second with 10,000 active tenants).
    public func flush() async {
        let batch = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        let uses = batch.flatMap { tenantID, uses in uses.map { (tenantID: tenantID, keyID: $0.key, at: $0.value) } }
        let repository = ApiKeyRepository()
        for start in stride(from: 0, to: uses.count, by: Self.batchSize) {
            let chunk = Array(uses[start..<min(start + Self.batchSize, uses.count)])
            do {
                try await repository.recordUses(chunk, in: database)
            } catch {
                logger.warning(
                    "could not record key usage", metadata: ["keys": "\(chunk.count)", "error": "\(error)"])
            }
        }
    }

    /// Uses written by one statement.
    static let batchSize = 1000

    public func run() async throws {
        // Shutting down cuts the wait short, never a flush in progress, then the last flush runs.
        await Periodic.run(
            every: interval, start: .afterOneInterval, logger: logger, failure: "key usage not recorded"
        ) { await self.flush() }
        await flush()
    }
}
