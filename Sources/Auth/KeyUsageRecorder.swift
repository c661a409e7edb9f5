import BlockingWork
import Foundation
import Logging
import Persistence
import ServiceLifecycle
import Synchronization

/// Records `last_used_at` of API keys without a write per request: uses are gathered in memory and
/// written in one statement per tenant every `interval`, and once more on shutdown.
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

    /// Writes every gathered use now.
    public func flush() async {
        let batch = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        let repository = ApiKeyRepository()
        for (tenantID, uses) in batch {
            do {
                try await database.withTenant(tenantID) { try await repository.recordUse(uses, in: $0) }
            } catch {
                logger.warning(
                    "could not record key usage", metadata: ["tenant_id": "\(tenantID)", "error": "\(error)"])
            }
        }
    }

    public func run() async throws {
        // Shutting down cuts the wait short, never a flush in progress, then the last flush runs.
        await Periodic.run(
            every: interval, start: .afterOneInterval, logger: logger, failure: "key usage not recorded"
        ) { await self.flush() }
        await flush()
    }
}
