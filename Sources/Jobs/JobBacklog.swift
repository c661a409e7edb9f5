import Persistence
import PostgresNIO

/// Open jobs across tenants as Postgres records them, and those the relay has still to send to Redis: what
/// `/v1/admin/health` shows operators. Ages are in seconds, never negative; nil when there is no such job.
public struct JobBacklog: Sendable, Equatable {
    public let pending: Int
    public let running: Int
    public let oldestPendingAge: Double?
    public let unsent: Int
    public let oldestUnsentAge: Double?

    /// Reads the backlog in one statement, as the maintenance role (it spans tenants).
    public static func read(from database: Database) async throws -> JobBacklog {
        try await database.transaction(.maintenance) { connection in
            let rows = try await connection.statement(
                """
                SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'running'),
                       extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'queued'))::double precision,
                       count(*) FILTER (WHERE status = 'queued' AND enqueued_at IS NULL AND available_at <= now()),
                       extract(epoch FROM now() - min(available_at) FILTER (
                           WHERE status = 'queued' AND enqueued_at IS NULL AND available_at <= now()))::double precision
                FROM jobs WHERE status IN ('queued', 'running')
                """, logger: database.logger)
            for try await row in rows.decode((Int64, Int64, Double?, Int64, Double?).self) {
                return JobBacklog(
                    pending: Int(row.0), running: Int(row.1), oldestPendingAge: row.2.map { max(0, $0) },
                    unsent: Int(row.3), oldestUnsentAge: row.4.map { max(0, $0) })
            }
            return JobBacklog(pending: 0, running: 0, oldestPendingAge: nil, unsent: 0, oldestUnsentAge: nil)
        }
    }
}
