import Foundation
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// Where a job stands.
public enum JobStatus: String, Sendable, CaseIterable, Codable {
    case queued, running, succeeded, failed, dead
}

/// A job claimed for one attempt, with the delivery body it works on. `token` is the lease: only its
/// holder can finish or extend the attempt.
public struct ClaimedJob: Sendable {
    public let tenantID: TenantID
    public let jobID: UUID
    public let pipeline: Pipeline
    public let deliveryID: UUID
    public let repository: String?
    public let attempt: Int
    public let maxAttempts: Int
    public let body: [UInt8]
    public let token: UUID
    /// When the job was made (its queue wait ends at the claim).
    public let createdAt: Date
}

/// How an attempt ended.
public enum JobOutcome: Sendable, Equatable {
    case succeeded
    /// Not worth another attempt (the reason is kept).
    case failed(String)
    /// Worth another attempt after `backoff`, unless every attempt is used (then the job is dead).
    case retry(String, backoff: Duration)
}

/// A job as the API shows it.
public struct JobRecord: Sendable, Equatable {
    public let id: UUID
    public let deliveryID: UUID
    public let pipeline: Pipeline
    public let repository: String?
    public let status: JobStatus
    public let attempts: Int
    public let maxAttempts: Int
    public let lastError: String?
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?
    public let updatedAt: Date
}

/// The jobs' life in Postgres: claim with a lease, extend it, finish an attempt; list, read and retry for
/// the API; and, across tenants, find leases that ran out.
public struct JobStore: Sendable {
    public init() {}

    /// Claims the job for one attempt of at most `lease` (extendable); nil when there is nothing to run.
    public func claim(_ job: QueuedJob, lease: Duration, database: Database) async throws -> ClaimedJob? {
        let token = UUID()
        let rows = try await database.query(
            """
            SELECT pipeline, delivery_id, repository, attempts, max_attempts, body, created_at
            FROM job_claim(\(job.tenantID.rawValue), \(job.jobID), \(token), \(Self.seconds(lease))::integer)
            """, for: job.tenantID, logger: database.logger)
        var claimed: ClaimedJob?
        for try await row in rows.decode((String, UUID, String?, Int32, Int32, ByteBuffer, Date).self) {
            guard let pipeline = Pipeline(rawValue: row.0) else { continue }
            claimed = ClaimedJob(
                tenantID: job.tenantID, jobID: job.jobID, pipeline: pipeline, deliveryID: row.1, repository: row.2,
                attempt: Int(row.3), maxAttempts: Int(row.4), body: Array(buffer: row.5), token: token,
                createdAt: row.6)
        }
        return claimed
    }

    /// Ends the attempt; answers the job's status afterwards, nil when the lease had been lost.
    @discardableResult
    public func finish(_ job: ClaimedJob, _ outcome: JobOutcome, database: Database) async throws -> JobStatus? {
        let (name, error, backoff): (String, String?, Double) =
            switch outcome {
            case .succeeded: ("succeeded", nil, 0)
            case .failed(let reason): ("failed", reason, 0)
            case .retry(let reason, let backoff):
                (
                    "retry", reason,
                    backoff.seconds
                )
            }
        let rows = try await database.query(
            """
            SELECT job_finish(\(job.tenantID.rawValue), \(job.jobID), \(job.token), \(name), \(error), \(backoff))
            """, for: job.tenantID, logger: database.logger)
        // Every pool-level result is read to its end, so the connection goes back to the pool at once.
        var status: JobStatus?
        for try await value in rows.decode(String?.self) { status = value.flatMap(JobStatus.init(rawValue:)) }
        return status
    }

    /// Extends the attempt's lease; false when it was lost (taken over).
    public func extend(_ job: ClaimedJob, lease: Duration, database: Database) async throws -> Bool {
        let rows = try await database.query(
            """
            SELECT job_extend_lease(\(job.tenantID.rawValue), \(job.jobID), \(job.token), \(Self.seconds(lease))::integer)
            """, for: job.tenantID, logger: database.logger)
        var extended = false
        for try await value in rows.decode(Bool.self) { extended = value }
        return extended
    }

    /// Running jobs, of every tenant, whose lease ran out; and then puts them back on the queue (through
    /// the relay) or, with every attempt used, to the dead letters. Answers how many it released.
    public func releaseExpired(limit: Int = 1000, database: Database) async throws -> Int {
        let expired = try await database.transaction(.maintenance) { connection in
            var found: [QueuedJob] = []
            let rows = try await connection.statement(
                """
                SELECT tenant_id, job_id FROM jobs WHERE status = 'running' AND lease_until < now()
                ORDER BY lease_until LIMIT \(limit)
                """, logger: database.logger)
            for try await row in rows.decode((UUID, UUID).self) {
                found.append(QueuedJob(tenantID: TenantID(row.0), jobID: row.1))
            }
            return found
        }
        guard !expired.isEmpty else { return 0 }
        let rows = try await database.query(
            "SELECT jobs_release_expired(\(expired.map(\.tenantID.rawValue)), \(expired.map(\.jobID)))",
            logger: database.logger)
        var released = 0
        for try await count in rows.decode(Int32.self) { released = Int(count) }
        return released
    }

    static func seconds(_ duration: Duration) -> Int {
        Int(clamping: max(1, duration.components.seconds))
    }

    // MARK: API

    private typealias Row = (UUID, UUID, String, String?, String, Int32, Int32, String?, Date, Date?, Date?, Date)
    private static let columns =
        "job_id, delivery_id, pipeline, repository, status, attempts, max_attempts, last_error, created_at, started_at, finished_at, updated_at"
    private static let keyset = KeysetQuery(
        table: "jobs", columns: columns, timeColumn: "created_at", idColumn: "job_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func record(_ row: Row) -> JobRecord {
        JobRecord(
            id: row.0, deliveryID: row.1, pipeline: Pipeline(rawValue: row.2) ?? .commitments, repository: row.3,
            status: JobStatus(rawValue: row.4) ?? .failed, attempts: Int(row.5), maxAttempts: Int(row.6),
            lastError: row.7, createdAt: row.8, startedAt: row.9, finishedAt: row.10, updatedAt: row.11)
    }

    /// The tenant's jobs, newest first, optionally of one status and pipeline.
    public func list(
        status: JobStatus?, pipeline: Pipeline?, limit: Int, after cursor: PageCursor?,
        in transaction: TenantTransaction
    ) async throws -> Page<JobRecord> {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        var filters: [(column: String, value: any PostgresEncodable)] = [("tenant_id", transaction.tenantID.rawValue)]
        if let status { filters.append(("status", status.rawValue)) }
        if let pipeline { filters.append(("pipeline", pipeline.rawValue)) }
        let rows = try await transaction.query(try Self.keyset.page(filters: filters, below: bound, limit: limit))
        var jobs: [JobRecord] = []
        for try await row in rows.decode(Row.self) { jobs.append(Self.record(row)) }
        return Page(fetched: jobs, limit: limit) { PageCursor(time: $0.createdAt, id: $0.id.uuidString) }
    }

    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> JobRecord? {
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM jobs WHERE tenant_id = \(transaction.tenantID.rawValue) AND job_id = \(id)
            """)
        for try await row in rows.decode(Row.self) { return Self.record(row) }
        return nil
    }

    /// Puts a failed or dead job back on the queue with its attempts reset; nil when there is no such
    /// job, false when it is not failed or dead (queued, running and succeeded jobs are left alone).
    public func retry(_ id: UUID, in transaction: TenantTransaction) async throws -> JobRecord? {
        let rows = try await transaction.query(
            """
            UPDATE jobs SET status = 'queued', attempts = 0, available_at = now(), enqueued_at = NULL,
                            finished_at = NULL, updated_at = now()
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND job_id = \(id) AND status IN ('failed', 'dead')
            RETURNING \(unescaped: Self.columns)
            """)
        for try await row in rows.decode(Row.self) {
            try await transaction.query(
                """
                UPDATE webhook_deliveries SET status = 'accepted', updated_at = now()
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND delivery_id = \(row.1)
                """)
            return Self.record(row)
        }
        return nil
    }
}
