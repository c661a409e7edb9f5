import Settings

/// Providers, their credentials and the per-tenant bounds of gateway calls (README, "Configuration").
public struct GatewaySettings: Sendable {
    /// The providers the operator may set a default credential for (`CP_<PROVIDER>_API_KEY`, `_BASE_URL`).
    public static let defaultCredentialProviders = ["openai", "groq", "gemini", "anthropic", "openai_compatible"]

    /// The operator's default credential per provider.
    public var providerDefaults: [String: (baseURL: String?, apiKey: String?)]
    /// Hosts a tenant's custom base URL may reach despite the private-address guard.
    public var providerURLAllowlist: [String]
    /// Attempts per candidate (429, 5xx, timeouts) before the next one.
    public var providerAttempts: Int
    /// Bytes a stream holds between the provider and the client before reading from the provider pauses
    /// (per stream and stage).
    public var streamBufferBytes: Int
    /// Gateway calls one tenant may have in flight on a replica; past it the call is refused with 429.
    public var callsPerTenant: Int
    /// What one tenant's cached answers may hold in Redis; past it the entries nearest their expiry go first.
    public var cacheBytesPerTenant: Int
    /// Consecutive provider faults that open a tenant's circuit for an endpoint, and how long it stays open.
    public var breakerThreshold: Int
    public var breakerCooldown: Duration

    public init(_ reader: SettingsReader) throws {
        var providers: [String: (baseURL: String?, apiKey: String?)] = [:]
        for name in Self.defaultCredentialProviders {
            let prefix = "CP_" + name.uppercased()
            let baseURL = reader.optional(prefix + "_BASE_URL", documentedAs: "CP_<PROVIDER>_BASE_URL")
            let apiKey = reader.optional(prefix + "_API_KEY", documentedAs: "CP_<PROVIDER>_API_KEY")
            if baseURL != nil || apiKey != nil { providers[name] = (baseURL, apiKey) }
        }
        providerDefaults = providers
        providerURLAllowlist = reader.list("CP_PROVIDER_URL_ALLOWLIST")
        providerAttempts = try reader.integer("CP_PROVIDER_ATTEMPTS", 2, 1...10)
        streamBufferBytes = try reader.integer("CP_STREAM_BUFFER_BYTES", 65_536, 1024...67_108_864)
        callsPerTenant = try reader.integer("CP_GATEWAY_CALLS_PER_TENANT", 32, 1...100_000)
        cacheBytesPerTenant = try reader.integer("CP_CACHE_BYTES_PER_TENANT", 4 << 20, 1024...(1 << 30))
        breakerThreshold = try reader.integer("CP_BREAKER_THRESHOLD", 5, 1...1000)
        breakerCooldown = try reader.seconds("CP_BREAKER_COOLDOWN_SECONDS", 30, 1...3600)
    }
}
