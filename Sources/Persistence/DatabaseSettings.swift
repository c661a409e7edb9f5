import Settings

/// How a process reaches Postgres (`CP_DATABASE_*`, `CP_MIGRATION_DATABASE_URL`, `CP_LISTENER_DATABASE_URL`,
/// `CP_MIGRATIONS_DIR`; README, "Configuration").
public struct DatabaseSettings: Sendable {
    /// The application role's connection (never owner, superuser or BYPASSRLS).
    public var url: String
    /// The invalidation listener's own connection: a direct one, since a transaction-mode pooler
    /// (PgBouncer) cannot carry LISTEN.
    public var listenerURL: String
    /// The owner role's connection, used only by `migrate` and the key-management commands.
    public var migrationURL: String
    public var poolSize: Int
    /// Connections the pool opens when it starts (at most the pool size; the pool size by default). They
    /// are opened by a warm-up, not kept as postgres-nio's minimum: that minimum makes its pool trap on a
    /// Postgres restart (see `SupervisedPool`).
    public var poolMinimum: Int
    /// Pooled connections one tenant's statements and transactions use at once (4 or the pool size if
    /// smaller); the others wait in the tenant's own line, not in front of other tenants. More would not
    /// serve the tenant faster: its calls take turns on its own rows (rate limit, budget, hourly count), so
    /// extra connections would only wait for row locks inside Postgres.
    public var connectionsPerTenant: Int
    /// How long an idle pooled connection is kept open.
    public var idleSeconds: Int
    /// How often the supervisor probes the pool with `SELECT 1`.
    public var probeInterval: Duration
    /// How long a probe, or a direct connection while Postgres is away, may take.
    public var probeTimeout: Duration
    /// How long one statement may take before its caller gets a 503 and its connection is closed (see
    /// `StatementDeadline`).
    public var statementTimeout: Duration
    /// How often an idle pooled connection is checked with `SELECT 1` (0 turns the check off). The check
    /// finds connections a firewall or NAT dropped while idle; postgres-nio arms its timer each time a
    /// connection is parked, which costs about a fifth of the throughput of a one-query request on a small
    /// machine (README, "Tuning").
    public var keepAliveSeconds: Int
    /// Where `migrate` finds `NNNN_name.sql` and the definitions.
    public var migrationsDirectory: String

    public init(_ reader: SettingsReader) throws {
        url = reader.string("CP_DATABASE_URL", "postgres://controlplane_app@127.0.0.1:5432/controlplane")
        migrationURL = reader.string("CP_MIGRATION_DATABASE_URL", url)
        listenerURL = reader.string("CP_LISTENER_DATABASE_URL", url)
        poolSize = try reader.integer("CP_DATABASE_POOL_SIZE", 20, 1...10_000)
        poolMinimum = try reader.integer("CP_DATABASE_POOL_MIN", poolSize, 0...poolSize)
        connectionsPerTenant = try reader.integer("CP_DATABASE_CONNECTIONS_PER_TENANT", min(4, poolSize), 1...poolSize)
        keepAliveSeconds = try reader.integer("CP_DATABASE_KEEPALIVE_SECONDS", 30, 0...86_400)
        idleSeconds = try reader.integer("CP_DATABASE_IDLE_SECONDS", 300, 1...86_400)
        probeInterval = try reader.milliseconds("CP_DATABASE_PROBE_INTERVAL_MS", 1000, 50...60_000)
        probeTimeout = try reader.milliseconds("CP_DATABASE_PROBE_TIMEOUT_MS", 2000, 100...60_000)
        statementTimeout = try reader.milliseconds("CP_DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 100...86_400_000)
        migrationsDirectory = reader.string("CP_MIGRATIONS_DIR", "migrations")
    }
}

/// The keys secrets are sealed with at rest (`CP_MASTER_KEY`, `CP_PREVIOUS_MASTER_KEY`).
public struct SealingSettings: Sendable {
    /// Base64 of 32 bytes; seals signing keys and stored answers, and keys cursor and fingerprint MACs.
    public var masterKey: String
    /// The master key being rotated away from: it still opens what it sealed until `controlplane
    /// master-key rotate` has re-sealed everything with `masterKey`.
    public var previousMasterKey: String

    public init(_ reader: SettingsReader) {
        masterKey = reader.string("CP_MASTER_KEY", "")
        previousMasterKey = reader.string("CP_PREVIOUS_MASTER_KEY", "")
    }
}
