import Settings

/// The process as a whole: its logs, its shutdown and its periodic chores (README, "Configuration").
public struct ProcessSettings: Sendable {
    public var logLevel: String
    /// How long a SIGTERM'd process may take to stop gracefully (requests and jobs finish) before what
    /// still runs is cancelled, e.g. a wait for a database that went away.
    public var shutdownGrace: Duration
    /// How often housekeeping runs (pruning, and releasing expired reservations).
    public var housekeepingInterval: Duration
    /// How often the API counts each tenant's open jobs for `background_jobs_pending`.
    public var pendingJobsInterval: Duration

    public init(_ reader: SettingsReader) throws {
        logLevel = reader.string("CP_LOG_LEVEL", "info")
        shutdownGrace = try reader.seconds("CP_SHUTDOWN_GRACE_SECONDS", 30, 1...3600)
        housekeepingInterval = try reader.seconds("CP_HOUSEKEEPING_INTERVAL_SECONDS", 60, 1...86_400)
        pendingJobsInterval = try reader.seconds("CP_PENDING_JOBS_INTERVAL_SECONDS", 15, 1...3600)
    }
}
