import Foundation

/// Every setting of the process, read from `CP_*` environment variables with documented defaults
/// (README, "Configuration").
public struct Configuration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    /// The application role's connection (never owner, superuser or BYPASSRLS).
    public var databaseURL: String
    /// The owner role's connection, used only by `migrate`.
    public var migrationDatabaseURL: String
    public var databasePoolSize: Int
    public var redisURL: String
    /// Base64 of 32 bytes; seals signing keys and stored answers.
    public var masterKey: String
    public var migrationsDirectory: String
    public var jwtIssuer: String
    public var jwtAudience: String
    public var maxBodyBytes: Int
    public var signupsPerHourPerAddress: Int
    public var loginFailuresAllowed: Int
    public var loginLockout: Duration
    public var accessTokenLifetime: Duration
    public var defaultKeyLifetime: Duration
    public var maxKeyLifetime: Duration
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    public var trustForwardedFor: Bool
    public var credentialCacheTTL: Duration
    public var argon2MemoryKiB: UInt32
    public var argon2Iterations: UInt32
    public var logLevel: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func string(_ name: String, _ fallback: String) -> String { environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback }
        func integer(_ name: String, _ fallback: Int) throws -> Int {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let value = Int(text), value >= 0 else { throw ConfigurationError.invalid(name, text) }
            return value
        }
        httpHost = string("CP_HTTP_HOST", "127.0.0.1")
        httpPort = try integer("CP_HTTP_PORT", 8080)
        databaseURL = string("CP_DATABASE_URL", "postgres://controlplane_app@127.0.0.1:5432/controlplane")
        migrationDatabaseURL = string("CP_MIGRATION_DATABASE_URL", databaseURL)
        databasePoolSize = try integer("CP_DATABASE_POOL_SIZE", 20)
        redisURL = string("CP_REDIS_URL", "redis://127.0.0.1:6379")
        masterKey = string("CP_MASTER_KEY", "")
        migrationsDirectory = string("CP_MIGRATIONS_DIR", "migrations")
        jwtIssuer = string("CP_JWT_ISSUER", "controlplane")
        jwtAudience = string("CP_JWT_AUDIENCE", "controlplane-api")
        maxBodyBytes = try integer("CP_MAX_BODY_BYTES", 1_048_576)
        signupsPerHourPerAddress = try integer("CP_SIGNUPS_PER_HOUR_PER_ADDRESS", 20)
        loginFailuresAllowed = try integer("CP_LOGIN_FAILURES_ALLOWED", 5)
        loginLockout = .seconds(try integer("CP_LOGIN_LOCKOUT_SECONDS", 900))
        accessTokenLifetime = .seconds(try integer("CP_ACCESS_TOKEN_TTL_SECONDS", 900))
        defaultKeyLifetime = .seconds(try integer("CP_DEFAULT_KEY_TTL_SECONDS", 90 * 86_400))
        maxKeyLifetime = .seconds(try integer("CP_MAX_KEY_TTL_SECONDS", 2 * 365 * 86_400))
        trustForwardedFor = string("CP_TRUST_FORWARDED_FOR", "false") == "true"
        credentialCacheTTL = .seconds(try integer("CP_CREDENTIAL_CACHE_TTL_SECONDS", 30))
        argon2MemoryKiB = UInt32(try integer("CP_ARGON2_MEMORY_KIB", 19_456))
        argon2Iterations = UInt32(try integer("CP_ARGON2_ITERATIONS", 2))
        logLevel = string("CP_LOG_LEVEL", "info")
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
