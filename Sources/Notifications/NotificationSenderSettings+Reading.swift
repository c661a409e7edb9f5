import Settings

extension NotificationSenderSettings {
    /// `CP_NOTIFY_MAX_ATTEMPTS` (8), `CP_NOTIFY_BACKOFF_BASE_MS` (5000, times 4 per attempt, at most 6 h),
    /// `CP_NOTIFY_TIMEOUT_SECONDS` (10, the whole exchange), `CP_NOTIFY_POLL_INTERVAL_MS` (1000) and
    /// `CP_NOTIFY_SENDS_PER_TENANT` (4 attempts of one tenant out at once).
    public init(_ reader: SettingsReader) throws {
        self.init(
            pollInterval: try reader.milliseconds("CP_NOTIFY_POLL_INTERVAL_MS", 1000, 10...60_000),
            timeout: try reader.seconds("CP_NOTIFY_TIMEOUT_SECONDS", 10, 1...60),
            maxAttempts: try reader.integer("CP_NOTIFY_MAX_ATTEMPTS", 8, 1...20),
            backoffBase: try reader.milliseconds("CP_NOTIFY_BACKOFF_BASE_MS", 5000, 10...3_600_000),
            perTenant: try reader.integer("CP_NOTIFY_SENDS_PER_TENANT", 4, 1...1000))
    }
}
