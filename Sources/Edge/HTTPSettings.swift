import Settings

/// The HTTP server's listener, timeouts, body limits, client addresses and refusal pacing (README,
/// "Configuration").
public struct HTTPSettings: Sendable {
    public var host: String
    public var port: Int
    /// `controlplane worker`'s port for `/healthz`, `/readyz` and `/metrics` (0: none).
    public var workerPort: Int
    /// A connection with no request in progress is closed after this long.
    public var idleTimeout: Duration
    /// A request's head must arrive whole within this long of its first byte.
    public var headerTimeout: Duration
    /// A request's body must arrive whole within this long of its head.
    public var bodyTimeout: Duration
    public var maxBodyBytes: Int
    /// The body limit of webhook deliveries (25 MiB like GitHub's); every other route keeps `maxBodyBytes`.
    public var webhookMaxBodyBytes: Int
    /// The body limit of bulk calls (`PUT /v1/identities`, a directory sync of thousands of people).
    public var bulkMaxBodyBytes: Int
    /// Which proxies' `X-Forwarded-For` entries to believe (see `ClientAddressResolver`).
    public var trustedProxies: [String]
    public var trustedProxyHops: Int
    /// The longest a 429 waits before it goes (never past its `Retry-After`; 0 answers at once), so clients
    /// that retry at once send at the server's pace.
    public var refusalPacing: Duration
    /// Refusals paused at once for one source (a tenant, else a client address) and in all; past either a
    /// refusal goes at once.
    public var refusalPacingHoldsPerSource: Int
    public var refusalPacingHolds: Int
    /// Request-body bytes being read at once on a replica, in all and per source (a webhook endpoint, else a
    /// client address); past them a request is answered 503 before its body is read.
    public var bodyBytesInFlight: Int
    public var bodyBytesInFlightPerSource: Int
    /// How fast one source's bodies are read once it has read its in-flight share's worth at once (0: off).
    public var bodyBytesPerSecondPerSource: Int
    /// Distinct model labels one tenant's token counts may have on a replica; later models count as `other`.
    public var metricsModelsPerTenant: Int
    /// The folder the admin console's files are served from, at `/console/`.
    public var consoleDirectory: String

    public init(_ reader: SettingsReader) throws {
        host = reader.string("CP_HTTP_HOST", "127.0.0.1")
        port = try reader.integer("CP_HTTP_PORT", 8080, 0...65535)
        workerPort = try reader.integer("CP_WORKER_HTTP_PORT", 8081, 0...65535)
        idleTimeout = try reader.seconds("CP_HTTP_IDLE_TIMEOUT_SECONDS", 60, 1...3600)
        headerTimeout = try reader.seconds("CP_HTTP_HEADER_TIMEOUT_SECONDS", 10, 1...3600)
        bodyTimeout = try reader.seconds("CP_HTTP_BODY_TIMEOUT_SECONDS", 30, 1...3600)
        maxBodyBytes = try reader.integer("CP_MAX_BODY_BYTES", 1_048_576, 1...1_073_741_824)
        webhookMaxBodyBytes = try reader.integer("CP_WEBHOOK_MAX_BODY_BYTES", 26_214_400, 1...1_073_741_824)
        bulkMaxBodyBytes = try reader.integer("CP_BULK_MAX_BODY_BYTES", 8_388_608, 1...1_073_741_824)
        trustedProxies = reader.list("CP_TRUSTED_PROXIES")
        trustedProxyHops = try reader.integer("CP_TRUSTED_PROXY_HOPS", 0, 0...16)
        refusalPacing = try reader.milliseconds("CP_REFUSAL_PACING_MS", 1000, 0...60_000)
        refusalPacingHoldsPerSource = try reader.integer("CP_REFUSAL_PACING_HOLDS_PER_SOURCE", 64, 0...1_000_000)
        refusalPacingHolds = try reader.integer("CP_REFUSAL_PACING_HOLDS", 4096, 0...1_000_000)
        bodyBytesInFlight = try reader.integer("CP_BODY_BYTES_IN_FLIGHT", 256 << 20, 1 << 20...(1 << 40))
        bodyBytesInFlightPerSource = try reader.integer(
            "CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE", 32 << 20, 1 << 20...(1 << 40))
        bodyBytesPerSecondPerSource = try reader.integer(
            "CP_BODY_BYTES_PER_SECOND_PER_SOURCE", 8 << 20, 0...(1 << 40))
        metricsModelsPerTenant = try reader.integer("CP_METRICS_MODELS_PER_TENANT", 20, 1...10_000)
        consoleDirectory = reader.string("CP_CONSOLE_DIR", "console")
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
