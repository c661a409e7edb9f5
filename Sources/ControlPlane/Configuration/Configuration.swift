import Auth
import Foundation
import Interventions
import Notifications
import Persistence
import Runtime
import Tenancy

/// Every setting of the process, read from `CP_*` environment variables with documented defaults
/// (README, "Configuration").
public struct Configuration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    /// `controlplane worker`'s port for `/healthz`, `/readyz` and `/metrics` (0: none).
    public var workerHTTPPort: Int
    /// The application role's connection (never owner, superuser or BYPASSRLS).
    public var databaseURL: String
    /// The invalidation listener's own connection: a direct one, since a transaction-mode pooler
    /// (PgBouncer) cannot carry LISTEN.
    public var listenerDatabaseURL: String
    /// The owner role's connection, used only by `migrate` and the key-management commands.
    public var migrationDatabaseURL: String
    public var databasePoolSize: Int
    /// Connections the pool opens when it starts (`CP_DATABASE_POOL_MIN`, at most the pool size; the
    /// pool size by default). They are opened by a warm-up, not kept as postgres-nio's minimum: that
    /// minimum makes its pool trap on a Postgres restart (see `SupervisedPool`).
    public var databasePoolMinimum: Int
    /// Pooled connections one tenant's statements and transactions use at once
    /// (`CP_DATABASE_CONNECTIONS_PER_TENANT`, 4 or the pool size if smaller); the others wait in the
    /// tenant's own line, not in front of other tenants. More would not serve the tenant faster: its calls
    /// take turns on its own rows (rate limit, budget, hourly count), so extra connections would only wait
    /// for row locks inside Postgres, and the waiting and waking slows every tenant's statements.
    public var databaseConnectionsPerTenant: Int
    /// How long an idle pooled connection is kept open (`CP_DATABASE_IDLE_SECONDS`, 300).
    public var databaseIdleSeconds: Int
    /// How often the supervisor probes the pool with `SELECT 1` (`CP_DATABASE_PROBE_INTERVAL_MS`, 1000).
    public var databaseProbeInterval: Duration
    /// How long a probe, or a direct connection while Postgres is away, may take
    /// (`CP_DATABASE_PROBE_TIMEOUT_MS`, 2000).
    public var databaseProbeTimeout: Duration
    /// How long one statement may take before its caller gets a 503 and its connection is closed
    /// (`CP_DATABASE_STATEMENT_TIMEOUT_MS`, 30000; see `StatementDeadline`).
    public var databaseStatementTimeout: Duration
    /// How often an idle pooled connection is checked with `SELECT 1` (`CP_DATABASE_KEEPALIVE_SECONDS`,
    /// 30 by default; 0 turns the check off). The check finds connections a firewall or NAT dropped while
    /// idle; postgres-nio arms its timer each time a connection is parked, which costs about a fifth of the
    /// throughput of a one-query request on a small machine (README, "Tuning").
    public var databaseKeepAliveSeconds: Int
    public var redisURL: String
    /// Base64 of 32 bytes; seals signing keys and stored answers, and keys cursor and fingerprint MACs.
    public var masterKey: String
    /// The master key being rotated away from (`CP_PREVIOUS_MASTER_KEY`): it still opens what it sealed
    /// until `controlplane master-key rotate` has re-sealed everything with `masterKey`.
    public var previousMasterKey: String
    public var migrationsDirectory: String
    public var jwtIssuer: String
    public var jwtAudience: String
    /// The audience of operator tokens, distinct from tenant tokens'.
    public var operatorAudience: String
    public var maxBodyBytes: Int
    public var signupsPerHourPerAddress: Int
    public var loginFailuresAllowed: Int
    public var loginLockout: Duration
    /// Login attempts per client address (IPv6 per /64) and minute, checked before any hashing.
    public var loginAttemptsPerMinutePerAddress: Int
    /// Login attempts per minute across the platform, checked before any hashing.
    public var loginAttemptsPerMinute: Int
    public var accessTokenLifetime: Duration
    /// How long an invitation can be accepted (`CP_INVITATION_TTL_SECONDS`, 7 days).
    public var invitationLifetime: Duration
    /// How long a session lasts without a refresh (`CP_SESSION_IDLE_SECONDS`, 12 hours) and in all
    /// (`CP_SESSION_MAX_SECONDS`, 30 days).
    public var sessionPolicy: SessionPolicy
    /// The clock sessions and tokens are judged by (tests move it forward).
    public var clock: ServerClock = .system
    /// Sign in with GitHub (`CP_GITHUB_CLIENT_ID` and friends); nil when off.
    public var gitHubSignIn: GitHubSignInSettings?
    public var defaultKeyLifetime: Duration
    public var maxKeyLifetime: Duration
    public var operatorTokenLifetime: Duration
    /// Which proxies' `X-Forwarded-For` entries to believe (see `ClientAddressResolver`).
    public var trustedProxies: [String]
    public var trustedProxyHops: Int
    public var credentialCacheTTL: Duration
    public var argon2MemoryKiB: UInt32
    public var argon2Iterations: UInt32
    public var argon2Threads: Int
    public var argon2QueueDepth: Int
    public var redisThreads: Int
    /// A connection with no request in progress is closed after this long.
    public var httpIdleTimeout: Duration
    /// A request's head must arrive whole within this long of its first byte.
    public var httpHeaderTimeout: Duration
    /// A request's body must arrive whole within this long of its head.
    public var httpBodyTimeout: Duration
    public var logLevel: String
    /// A new tenant's requests per minute and burst, which are also its caps until an operator raises them.
    public var defaultRequestsPerMinute: Int
    public var defaultBurst: Int
    /// A new tenant's monthly token budget and the operator's cap on it.
    public var defaultTokenLimit: Int64
    public var defaultMaxTokenLimit: Int64
    /// How long a budget reservation lives before the sweeper releases it, should its holder die.
    public var reservationLifetime: Duration
    /// How often housekeeping runs (pruning, and releasing expired reservations).
    public var housekeepingInterval: Duration
    /// Days each plan keeps deliveries, jobs, usage detail and sent notifications
    /// (`CP_RETENTION_DAYS_FREE` 30, `_TEAM` 90, `_ENTERPRISE` 365) and audit events
    /// (`CP_AUDIT_RETENTION_DAYS_FREE` 365, `_TEAM` 730, `_ENTERPRISE` 2555); daily usage totals stay.
    public var retentionPolicy: RetentionPolicy
    /// How often each worker prunes what is past retention (`CP_RETENTION_INTERVAL_SECONDS`, 3600).
    public var retentionInterval: Duration
    /// How long a SIGTERM'd process may take to stop gracefully (requests and jobs finish) before what
    /// still runs is cancelled, e.g. a wait for a database that went away.
    public var shutdownGrace: Duration
    /// How often the API counts each tenant's open jobs for `background_jobs_pending`
    /// (`CP_PENDING_JOBS_INTERVAL_SECONDS`, 15).
    public var pendingJobsInterval: Duration
    /// The notification sender: `CP_NOTIFY_MAX_ATTEMPTS` (8), `CP_NOTIFY_BACKOFF_BASE_MS` (5000, times 4
    /// per attempt, at most 6 h), `CP_NOTIFY_TIMEOUT_SECONDS` (10, the whole exchange),
    /// `CP_NOTIFY_POLL_INTERVAL_MS` (1000), `CP_NOTIFY_SENDS_PER_TENANT` (4 attempts of one tenant out at once).
    public var notificationSettings: NotificationSenderSettings
    /// The intervention scheduler: `CP_INTERVENTION_POLL_SECONDS` (30) between looks for due commitments
    /// and escalations, `CP_INTERVENTION_LEASE_SECONDS` (300) a worker holds one it works on, and
    /// `CP_INTERVENTION_TENANTS` (empty: every tenant), tenant ids it is limited to (a canary rollout).
    public var interventionSettings: InterventionSchedulerSettings
    /// The operator's default credential per provider (`CP_<PROVIDER>_API_KEY`, `CP_<PROVIDER>_BASE_URL`).
    public var providerDefaults: [String: (baseURL: String?, apiKey: String?)]
    /// Hosts a tenant's custom base URL may reach despite the private-address guard.
    public var providerURLAllowlist: [String]
    /// Attempts per candidate (429, 5xx, timeouts) before the next one.
    public var providerAttempts: Int
    /// Bytes a stream holds between the provider and the client before reading from the provider pauses
    /// (`CP_STREAM_BUFFER_BYTES`, 65536, per stream and stage).
    public var streamBufferBytes: Int
    /// Gateway calls (`POST /v1/llm/chat/completions`) one tenant may have in flight on a replica
    /// (`CP_GATEWAY_CALLS_PER_TENANT`, 32); past it the call is refused with 429.
    public var gatewayCallsPerTenant: Int
    /// `CP_REFUSAL_PACING_MS` (1000; 0 answers at once): the longest a 429 waits before it goes (never past
    /// its `Retry-After`), so clients that retry at once send at the server's pace.
    public var refusalPacing: Duration
    /// `CP_REFUSAL_PACING_HOLDS_PER_SOURCE` (64) / `CP_REFUSAL_PACING_HOLDS` (4096): refusals paused at once
    /// for one source (a tenant, else a client address) and in all; past either a refusal goes at once.
    public var refusalPacingHoldsPerSource: Int
    public var refusalPacingHolds: Int
    /// `CP_METRICS_MODELS_PER_TENANT` (20): distinct model labels one tenant's token counts may have on a
    /// replica; later models are counted as `other`.
    public var metricsModelsPerTenant: Int
    /// `CP_CACHE_BYTES_PER_TENANT` (4 MiB): what one tenant's cached answers may hold in Redis; past it the
    /// entries nearest their expiry go first.
    public var cacheBytesPerTenant: Int
    /// `CP_BODY_BYTES_IN_FLIGHT` (256 MiB) and `CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE` (32 MiB): request-body
    /// bytes being read at once on a replica, in all and per source (a webhook endpoint, else a client
    /// address); past them a request is answered 503 before its body is read.
    public var bodyBytesInFlight: Int
    public var bodyBytesInFlightPerSource: Int
    /// `CP_BODY_BYTES_PER_SECOND_PER_SOURCE` (8 MiB; 0: off): how fast one source's bodies are read once it
    /// has read its in-flight share's worth at once; past it, reading waits (`BodyReadRate`).
    public var bodyBytesPerSecondPerSource: Int
    /// Consecutive provider faults that open a tenant's circuit for an endpoint, and how long it stays open.
    public var breakerThreshold: Int
    public var breakerCooldown: Duration
    /// The body limit of webhook deliveries (`CP_WEBHOOK_MAX_BODY_BYTES`, 25 MiB like GitHub's); every
    /// other route keeps `maxBodyBytes`.
    public var webhookMaxBodyBytes: Int
    /// The body limit of bulk calls (`PUT /v1/identities`, a directory sync of thousands of people):
    /// `CP_BULK_MAX_BODY_BYTES`, 8 MiB.
    public var bulkMaxBodyBytes: Int
    /// The prefix of every Redis key of the queues (`CP_QUEUE_PREFIX`).
    public var queuePrefix: String
    /// Jobs a tenant may have queued before ingest answers 429 (`CP_QUEUE_MAX_DEPTH`).
    public var queueMaxDepth: Int
    /// Attempts of a job before it goes to the dead letters (`CP_JOB_MAX_ATTEMPTS`).
    public var jobMaxAttempts: Int
    /// How often the relay looks for committed jobs that never reached Redis (`CP_QUEUE_RELAY_INTERVAL_SECONDS`).
    public var queueRelayInterval: Duration
    /// How old an un-noted job must be before the relay sends it (`CP_QUEUE_RELAY_MIN_AGE_SECONDS`).
    public var queueRelayMinimumAge: Duration
    /// Whether the relay puts every open job back on Redis when Redis lost its data
    /// (`CP_QUEUE_REBUILD_AFTER_LOSS`, on). Off only where deployments with different prefixes share one
    /// Redis and database, as the tests do.
    public var queueRebuildsAfterLoss: Bool
    /// How long a job may sit noted as on Redis, still queued, with its tenant's stream empty, before the
    /// relay counts its entry as lost and sends it again (`CP_QUEUE_LOST_AFTER_SECONDS`).
    public var queueLostAfter: Duration
    /// The worker's slots, visibility timeout, backoff and reaper (`CP_WORKER_CONCURRENCY`,
    /// `CP_JOB_VISIBILITY_TIMEOUT_SECONDS`, `CP_JOB_BACKOFF_BASE_MS`, `CP_JOB_BACKOFF_CAP_SECONDS`,
    /// `CP_WORKER_REAP_INTERVAL_SECONDS`), the slots one tenant may hold (`CP_WORKER_SLOTS_PER_TENANT`,
    /// half the slots) and how long one attempt of a job may run (`CP_JOB_DEADLINE_SECONDS`, 600).
    public var workerSettings: WorkerSettings

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func string(_ name: String, _ fallback: String) -> String {
            environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        }
        func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int> = 0...Int(Int32.max)) throws -> Int {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let value = Int(text), range.contains(value) else { throw ConfigurationError.invalid(name, text) }
            return value
        }
        func seconds(_ name: String, _ fallback: Int, _ range: ClosedRange<Int> = 0...Int(Int32.max)) throws -> Duration
        {
            .seconds(try integer(name, fallback, range))
        }
        func list(_ name: String) -> [String] {
            string(name, "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        }
        httpHost = string("CP_HTTP_HOST", "127.0.0.1")
        httpPort = try integer("CP_HTTP_PORT", 8080, 0...65535)
        workerHTTPPort = try integer("CP_WORKER_HTTP_PORT", 8081, 0...65535)
        databaseURL = string("CP_DATABASE_URL", "postgres://controlplane_app@127.0.0.1:5432/controlplane")
        migrationDatabaseURL = string("CP_MIGRATION_DATABASE_URL", databaseURL)
        listenerDatabaseURL = string("CP_LISTENER_DATABASE_URL", databaseURL)
        databasePoolSize = try integer("CP_DATABASE_POOL_SIZE", 20, 1...10_000)
        databasePoolMinimum = try integer("CP_DATABASE_POOL_MIN", databasePoolSize, 0...databasePoolSize)
        databaseConnectionsPerTenant = try integer(
            "CP_DATABASE_CONNECTIONS_PER_TENANT", min(4, databasePoolSize), 1...databasePoolSize)
        databaseKeepAliveSeconds = try integer("CP_DATABASE_KEEPALIVE_SECONDS", 30, 0...86_400)
        databaseIdleSeconds = try integer("CP_DATABASE_IDLE_SECONDS", 300, 1...86_400)
        databaseProbeInterval = .milliseconds(try integer("CP_DATABASE_PROBE_INTERVAL_MS", 1000, 50...60_000))
        databaseProbeTimeout = .milliseconds(try integer("CP_DATABASE_PROBE_TIMEOUT_MS", 2000, 100...60_000))
        databaseStatementTimeout = .milliseconds(
            try integer("CP_DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 100...86_400_000))
        redisURL = string("CP_REDIS_URL", "redis://127.0.0.1:6379")
        masterKey = string("CP_MASTER_KEY", "")
        previousMasterKey = string("CP_PREVIOUS_MASTER_KEY", "")
        migrationsDirectory = string("CP_MIGRATIONS_DIR", "migrations")
        jwtIssuer = string("CP_JWT_ISSUER", "controlplane")
        jwtAudience = string("CP_JWT_AUDIENCE", "controlplane-api")
        operatorAudience = string("CP_JWT_OPERATOR_AUDIENCE", "controlplane-operator")
        maxBodyBytes = try integer("CP_MAX_BODY_BYTES", 1_048_576, 1...1_073_741_824)
        signupsPerHourPerAddress = try integer("CP_SIGNUPS_PER_HOUR_PER_ADDRESS", 20)
        loginFailuresAllowed = try integer("CP_LOGIN_FAILURES_ALLOWED", 5)
        loginLockout = try seconds("CP_LOGIN_LOCKOUT_SECONDS", 900, 1...86_400)
        loginAttemptsPerMinutePerAddress = try integer("CP_LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS", 30)
        loginAttemptsPerMinute = try integer("CP_LOGIN_ATTEMPTS_PER_MINUTE", 1200)
        accessTokenLifetime = try seconds("CP_ACCESS_TOKEN_TTL_SECONDS", 900, 60...86_400)
        invitationLifetime = try seconds("CP_INVITATION_TTL_SECONDS", 604_800, 60...2_592_000)
        let sessionMax = try seconds("CP_SESSION_MAX_SECONDS", 2_592_000, 300...31_536_000)
        let sessionIdle = try seconds("CP_SESSION_IDLE_SECONDS", 43_200, 60...31_536_000)
        guard sessionIdle <= sessionMax else {
            throw ConfigurationError.invalid("CP_SESSION_IDLE_SECONDS", "must not exceed CP_SESSION_MAX_SECONDS")
        }
        sessionPolicy = SessionPolicy(idle: sessionIdle, absolute: sessionMax)
        gitHubSignIn = try GitHubSignInSettings.read(environment)
        defaultKeyLifetime = try seconds("CP_DEFAULT_KEY_TTL_SECONDS", 90 * 86_400, 60...10 * 365 * 86_400)
        maxKeyLifetime = try seconds("CP_MAX_KEY_TTL_SECONDS", 2 * 365 * 86_400, 60...10 * 365 * 86_400)
        operatorTokenLifetime = try seconds("CP_OPERATOR_TOKEN_TTL_SECONDS", 900, 60...86_400)
        trustedProxies = list("CP_TRUSTED_PROXIES")
        trustedProxyHops = try integer("CP_TRUSTED_PROXY_HOPS", 0, 0...16)
        credentialCacheTTL = try seconds("CP_CREDENTIAL_CACHE_TTL_SECONDS", 30, 0...3600)
        argon2MemoryKiB = UInt32(try integer("CP_ARGON2_MEMORY_KIB", 19_456, 8...4_194_304))
        argon2Iterations = UInt32(try integer("CP_ARGON2_ITERATIONS", 2, 1...100))
        argon2Threads = try integer("CP_ARGON2_THREADS", max(1, ProcessInfo.processInfo.activeProcessorCount), 1...256)
        argon2QueueDepth = try integer("CP_ARGON2_QUEUE_DEPTH", 16, 0...10_000)
        redisThreads = try integer("CP_REDIS_THREADS", 4, 1...256)
        httpIdleTimeout = try seconds("CP_HTTP_IDLE_TIMEOUT_SECONDS", 60, 1...3600)
        httpHeaderTimeout = try seconds("CP_HTTP_HEADER_TIMEOUT_SECONDS", 10, 1...3600)
        httpBodyTimeout = try seconds("CP_HTTP_BODY_TIMEOUT_SECONDS", 30, 1...3600)
        logLevel = string("CP_LOG_LEVEL", "info")
        defaultRequestsPerMinute = try integer("CP_DEFAULT_REQUESTS_PER_MINUTE", 600, 1...1_000_000)
        defaultBurst = try integer("CP_DEFAULT_BURST", 100, 1...1_000_000)
        defaultTokenLimit = Int64(try integer("CP_DEFAULT_TOKEN_LIMIT", 1_000_000, 0...Int(Int32.max)))
        defaultMaxTokenLimit = Int64(try integer("CP_DEFAULT_MAX_TOKEN_LIMIT", 10_000_000, 0...Int(Int32.max)))
        reservationLifetime = try seconds("CP_RESERVATION_TTL_SECONDS", 900, 5...86_400)
        housekeepingInterval = try seconds("CP_HOUSEKEEPING_INTERVAL_SECONDS", 60, 1...86_400)
        shutdownGrace = try seconds("CP_SHUTDOWN_GRACE_SECONDS", 30, 1...3600)
        var detailDays: [Tenant.Plan: Int] = [:]
        var auditDays: [Tenant.Plan: Int] = [:]
        for plan in Tenant.Plan.allCases {
            let suffix = plan.rawValue.uppercased()
            detailDays[plan] = try integer(
                "CP_RETENTION_DAYS_" + suffix, RetentionPolicy.standard.detailDays[plan] ?? 30, 1...36_500)
            auditDays[plan] = try integer(
                "CP_AUDIT_RETENTION_DAYS_" + suffix, RetentionPolicy.standard.auditDays[plan] ?? 365, 1...36_500)
        }
        retentionPolicy = RetentionPolicy(detailDays: detailDays, auditDays: auditDays)
        retentionInterval = try seconds("CP_RETENTION_INTERVAL_SECONDS", 3600, 1...86_400)
        pendingJobsInterval = try seconds("CP_PENDING_JOBS_INTERVAL_SECONDS", 15, 1...3600)
        notificationSettings = NotificationSenderSettings(
            pollInterval: .milliseconds(try integer("CP_NOTIFY_POLL_INTERVAL_MS", 1000, 10...60_000)),
            timeout: try seconds("CP_NOTIFY_TIMEOUT_SECONDS", 10, 1...60),
            maxAttempts: try integer("CP_NOTIFY_MAX_ATTEMPTS", 8, 1...20),
            backoffBase: .milliseconds(try integer("CP_NOTIFY_BACKOFF_BASE_MS", 5000, 10...3_600_000)),
            perTenant: try integer("CP_NOTIFY_SENDS_PER_TENANT", 4, 1...1000))
        interventionSettings = InterventionSchedulerSettings(
            pollInterval: try seconds("CP_INTERVENTION_POLL_SECONDS", 30, 1...3600),
            lease: try seconds("CP_INTERVENTION_LEASE_SECONDS", 300, 30...3600),
            tenants: try {
                let names = list("CP_INTERVENTION_TENANTS")
                guard !names.isEmpty else { return nil }
                return try names.map {
                    guard let tenant = TenantID(string: $0) else {
                        throw ConfigurationError.invalid("CP_INTERVENTION_TENANTS", $0)
                    }
                    return tenant
                }
            }())
        var providers: [String: (baseURL: String?, apiKey: String?)] = [:]
        for name in ["openai", "groq", "gemini", "anthropic", "openai_compatible"] {
            let prefix = "CP_" + name.uppercased()
            let baseURL = environment[prefix + "_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            let apiKey = environment[prefix + "_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            if baseURL != nil || apiKey != nil { providers[name] = (baseURL, apiKey) }
        }
        providerDefaults = providers
        providerURLAllowlist = list("CP_PROVIDER_URL_ALLOWLIST")
        providerAttempts = try integer("CP_PROVIDER_ATTEMPTS", 2, 1...10)
        streamBufferBytes = try integer("CP_STREAM_BUFFER_BYTES", 65_536, 1024...67_108_864)
        gatewayCallsPerTenant = try integer("CP_GATEWAY_CALLS_PER_TENANT", 32, 1...100_000)
        refusalPacing = .milliseconds(try integer("CP_REFUSAL_PACING_MS", 1000, 0...60_000))
        refusalPacingHoldsPerSource = try integer("CP_REFUSAL_PACING_HOLDS_PER_SOURCE", 64, 0...1_000_000)
        refusalPacingHolds = try integer("CP_REFUSAL_PACING_HOLDS", 4096, 0...1_000_000)
        metricsModelsPerTenant = try integer("CP_METRICS_MODELS_PER_TENANT", 20, 1...10_000)
        cacheBytesPerTenant = try integer("CP_CACHE_BYTES_PER_TENANT", 4 << 20, 1024...(1 << 30))
        bodyBytesInFlight = try integer("CP_BODY_BYTES_IN_FLIGHT", 256 << 20, 1 << 20...(1 << 40))
        bodyBytesInFlightPerSource = try integer("CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE", 32 << 20, 1 << 20...(1 << 40))
        bodyBytesPerSecondPerSource = try integer("CP_BODY_BYTES_PER_SECOND_PER_SOURCE", 8 << 20, 0...(1 << 40))
        breakerThreshold = try integer("CP_BREAKER_THRESHOLD", 5, 1...1000)
        breakerCooldown = try seconds("CP_BREAKER_COOLDOWN_SECONDS", 30, 1...3600)
        webhookMaxBodyBytes = try integer("CP_WEBHOOK_MAX_BODY_BYTES", 26_214_400, 1...1_073_741_824)
        bulkMaxBodyBytes = try integer("CP_BULK_MAX_BODY_BYTES", 8_388_608, 1...1_073_741_824)
        queuePrefix = string("CP_QUEUE_PREFIX", "cp")
        guard queuePrefix.utf8.count <= 64,
            queuePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_:.".contains($0)) })
        else { throw ConfigurationError.invalid("CP_QUEUE_PREFIX", queuePrefix) }
        queueMaxDepth = try integer("CP_QUEUE_MAX_DEPTH", 200_000, 1...100_000_000)
        jobMaxAttempts = try integer("CP_JOB_MAX_ATTEMPTS", 5, 1...100)
        queueRelayInterval = try seconds("CP_QUEUE_RELAY_INTERVAL_SECONDS", 1, 1...3600)
        queueRelayMinimumAge = try seconds("CP_QUEUE_RELAY_MIN_AGE_SECONDS", 5, 0...3600)
        queueRebuildsAfterLoss = string("CP_QUEUE_REBUILD_AFTER_LOSS", "on") != "off"
        queueLostAfter = try seconds("CP_QUEUE_LOST_AFTER_SECONDS", 60, 1...86_400)
        workerSettings = WorkerSettings(
            concurrency: try integer("CP_WORKER_CONCURRENCY", 8, 0...1024),
            visibilityTimeout: try seconds("CP_JOB_VISIBILITY_TIMEOUT_SECONDS", 60, 1...86_400),
            backoffBase: .milliseconds(try integer("CP_JOB_BACKOFF_BASE_MS", 2000, 1...3_600_000)),
            backoffCap: try seconds("CP_JOB_BACKOFF_CAP_SECONDS", 300, 1...86_400),
            reapInterval: try seconds("CP_WORKER_REAP_INTERVAL_SECONDS", 10, 1...3600),
            slotsPerTenant: environment["CP_WORKER_SLOTS_PER_TENANT"].flatMap { $0.isEmpty ? nil : $0 } == nil
                ? nil : try integer("CP_WORKER_SLOTS_PER_TENANT", 4, 1...1024),
            jobDeadline: try seconds("CP_JOB_DEADLINE_SECONDS", 600, 1...86_400))
        guard defaultTokenLimit <= defaultMaxTokenLimit else {
            throw ConfigurationError.invalid("CP_DEFAULT_TOKEN_LIMIT", "above CP_DEFAULT_MAX_TOKEN_LIMIT")
        }
        // One body of the largest kind must fit a source's share, and a source's share the whole.
        guard bodyBytesInFlightPerSource >= max(maxBodyBytes, webhookMaxBodyBytes, bulkMaxBodyBytes),
            bodyBytesInFlight >= bodyBytesInFlightPerSource
        else {
            throw ConfigurationError.invalid(
                "CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE",
                "\(bodyBytesInFlightPerSource) (below a body limit or above the total)")
        }
    }
}

/// A setting that cannot be used.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String)
    case missing(String)

    public var description: String {
        switch self {
        case .invalid(let name, _): "\(name) has an invalid value"
        case .missing(let name): "\(name) must be set"
        }
    }
}
