import Settings

/// The namespaced job queue and its relay (`CP_QUEUE_*`, `CP_JOB_MAX_ATTEMPTS`; README, "Configuration").
public struct JobsSettings: Sendable {
    /// The prefix of every Redis key of the queues.
    public var queuePrefix: String
    /// Jobs a tenant may have queued before ingest answers 429.
    public var maxDepth: Int
    /// Attempts of a job before it goes to the dead letters.
    public var maxAttempts: Int
    /// How often the relay looks for committed jobs that never reached Redis, and how old they must be.
    public var relayInterval: Duration
    public var relayMinimumAge: Duration
    /// Whether the relay puts every open job back on Redis when Redis lost its data. Off only where
    /// deployments with different prefixes share one Redis and database, as the tests do.
    public var rebuildsAfterLoss: Bool
    /// How long a job may sit noted as on Redis, still queued, with its tenant's stream empty, before the
    /// relay counts its entry as lost and sends it again.
    public var lostAfter: Duration

    public init(_ reader: SettingsReader) throws {
        queuePrefix = reader.string("CP_QUEUE_PREFIX", "cp")
        guard queuePrefix.utf8.count <= 64,
            queuePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_:.".contains($0)) })
        else { throw ConfigurationError.invalid("CP_QUEUE_PREFIX", queuePrefix) }
        maxDepth = try reader.integer("CP_QUEUE_MAX_DEPTH", 200_000, 1...100_000_000)
        maxAttempts = try reader.integer("CP_JOB_MAX_ATTEMPTS", 5, 1...100)
        relayInterval = try reader.seconds("CP_QUEUE_RELAY_INTERVAL_SECONDS", 1, 1...3600)
        relayMinimumAge = try reader.seconds("CP_QUEUE_RELAY_MIN_AGE_SECONDS", 5, 0...3600)
        rebuildsAfterLoss = reader.flag("CP_QUEUE_REBUILD_AFTER_LOSS", true)
        lostAfter = try reader.seconds("CP_QUEUE_LOST_AFTER_SECONDS", 60, 1...86_400)
    }
}
