import Settings

/// How a process reaches Redis (`CP_REDIS_URL`, `CP_REDIS_THREADS`).
public struct RedisSettings: Sendable {
    /// `redis://[:password@]host:port[/db]`, or `redis-cluster://[:password@]host:port`.
    public var url: String
    /// Threads for blocking Redis calls (never shared with hashing).
    public var threads: Int

    public init(_ reader: SettingsReader) throws {
        url = reader.string("CP_REDIS_URL", "redis://127.0.0.1:6379")
        threads = try reader.integer("CP_REDIS_THREADS", 4, 1...256)
    }
}
