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
    /// Connections the pool opens when it starts and keeps open while idle (at most the pool size; the
    /// pool size by default).
    public var poolMinimum: Int
    /// Pooled connections one tenant's statements and transactions use at once (4 or the pool size if
    /// smaller); the others wait in the tenant's own line, not in front of other tenants. More would not
    /// serve the tenant faster: its calls take turns on its own rows (rate limit, budget, hourly count), so
    /// extra connections would only wait for row locks inside Postgres.
    public var connectionsPerTenant: Int
    /// How long an idle pooled connection beyond `poolMinimum` is kept open.
    public var idleSeconds: Int
    /// How often Postgres is dialled while it is away (a dial failed).
    public var reconnectInterval: Duration
    /// How long dialling a connection (connect, TLS, start-up, authentication) or a keep-alive check may
    /// take.
    public var probeTimeout: Duration
    /// How long one statement may take before its caller gets a 503 and its connection is closed (see
    /// `StatementDeadline`).
    public var statementTimeout: Duration
    /// How often an idle pooled connection is checked with `SELECT 1` (0 turns the check off). The check
    /// finds connections a firewall or NAT dropped while idle (one pass over the parked connections each
    /// second; see `PostgresPool`).
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
        reconnectInterval = try reader.milliseconds("CP_DATABASE_RECONNECT_INTERVAL_MS", 250, 50...60_000)
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
