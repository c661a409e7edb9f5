import Settings

/// What new tenants start with, and how long a budget reservation lives (README, "Configuration").
public struct BillingSettings: Sendable {
    /// A new tenant's requests per minute and burst, which are also its caps until an operator raises them.
    public var defaultRequestsPerMinute: Int
    public var defaultBurst: Int
    /// A new tenant's monthly token budget and the operator's cap on it.
    public var defaultTokenLimit: Int64
    public var defaultMaxTokenLimit: Int64
    /// How long a budget reservation lives before the sweeper releases it, should its holder die.
    public var reservationLifetime: Duration

    public init(_ reader: SettingsReader) throws {
        defaultRequestsPerMinute = try reader.integer("CP_DEFAULT_REQUESTS_PER_MINUTE", 600, 1...1_000_000)
        defaultBurst = try reader.integer("CP_DEFAULT_BURST", 100, 1...1_000_000)
        defaultTokenLimit = Int64(try reader.integer("CP_DEFAULT_TOKEN_LIMIT", 1_000_000, 0...Int(Int32.max)))
        defaultMaxTokenLimit = Int64(
            try reader.integer("CP_DEFAULT_MAX_TOKEN_LIMIT", 10_000_000, 0...Int(Int32.max)))
        reservationLifetime = try reader.seconds("CP_RESERVATION_TTL_SECONDS", 900, 5...86_400)
        guard defaultTokenLimit <= defaultMaxTokenLimit else {
            throw ConfigurationError.invalid("CP_DEFAULT_TOKEN_LIMIT", "above CP_DEFAULT_MAX_TOKEN_LIMIT")
        }
    }

    /// The rate limit and budget a tenant signing up now starts with.
    public var spendDefaults: SpendDefaults {
        SpendDefaults(
            requestsPerMinute: defaultRequestsPerMinute, burst: defaultBurst, tokenLimit: defaultTokenLimit,
            maxTokenLimit: defaultMaxTokenLimit)
    }
}
