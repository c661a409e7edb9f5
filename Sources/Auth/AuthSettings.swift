import Foundation
import Settings

/// Tokens, sessions, keys, sign-in throttles and password hashing (README, "Configuration").
public struct AuthSettings: Sendable {
    /// `iss` and `aud` of tenant tokens, and the audience of operator tokens (distinct from tenant tokens').
    public var jwtIssuer: String
    public var jwtAudience: String
    public var operatorAudience: String
    public var signupsPerHourPerAddress: Int
    /// Failed logins per email and window before 429, and the window.
    public var loginFailuresAllowed: Int
    public var loginLockout: Duration
    /// Login attempts per client address (IPv6 per /64) and minute, checked before any hashing.
    public var loginAttemptsPerMinutePerAddress: Int
    /// Login attempts per minute across the platform, checked before any hashing.
    public var loginAttemptsPerMinute: Int
    public var accessTokenLifetime: Duration
    /// How long an invitation can be accepted.
    public var invitationLifetime: Duration
    /// How long a session lasts without a refresh, and in all.
    public var sessionPolicy: SessionPolicy
    /// Sign in with GitHub; nil when off.
    public var gitHubSignIn: GitHubSignInSettings?
    public var defaultKeyLifetime: Duration
    public var maxKeyLifetime: Duration
    public var operatorTokenLifetime: Duration
    /// Backstop for the per-replica key and tenant state cache (revocations arrive by `LISTEN/NOTIFY`).
    public var credentialCacheTTL: Duration
    /// argon2id's cost, and the hashing pool: its threads and the calls that may wait for one.
    public var argon2MemoryKiB: UInt32
    public var argon2Iterations: UInt32
    public var argon2Threads: Int
    public var argon2QueueDepth: Int

    public init(_ reader: SettingsReader) throws {
        jwtIssuer = reader.string("CP_JWT_ISSUER", "controlplane")
        jwtAudience = reader.string("CP_JWT_AUDIENCE", "controlplane-api")
        operatorAudience = reader.string("CP_JWT_OPERATOR_AUDIENCE", "controlplane-operator")
        signupsPerHourPerAddress = try reader.integer("CP_SIGNUPS_PER_HOUR_PER_ADDRESS", 20)
        loginFailuresAllowed = try reader.integer("CP_LOGIN_FAILURES_ALLOWED", 5)
        loginLockout = try reader.seconds("CP_LOGIN_LOCKOUT_SECONDS", 900, 1...86_400)
        loginAttemptsPerMinutePerAddress = try reader.integer("CP_LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS", 30)
        loginAttemptsPerMinute = try reader.integer("CP_LOGIN_ATTEMPTS_PER_MINUTE", 1200)
        accessTokenLifetime = try reader.seconds("CP_ACCESS_TOKEN_TTL_SECONDS", 900, 60...86_400)
        invitationLifetime = try reader.seconds("CP_INVITATION_TTL_SECONDS", 604_800, 60...2_592_000)
        let sessionMax = try reader.seconds("CP_SESSION_MAX_SECONDS", 2_592_000, 300...31_536_000)
        let sessionIdle = try reader.seconds("CP_SESSION_IDLE_SECONDS", 43_200, 60...31_536_000)
        guard sessionIdle <= sessionMax else {
            throw ConfigurationError.invalid("CP_SESSION_IDLE_SECONDS", "must not exceed CP_SESSION_MAX_SECONDS")
        }
        sessionPolicy = SessionPolicy(idle: sessionIdle, absolute: sessionMax)
        gitHubSignIn = try GitHubSignInSettings.read(reader)
        defaultKeyLifetime = try reader.seconds("CP_DEFAULT_KEY_TTL_SECONDS", 90 * 86_400, 60...10 * 365 * 86_400)
        maxKeyLifetime = try reader.seconds("CP_MAX_KEY_TTL_SECONDS", 2 * 365 * 86_400, 60...10 * 365 * 86_400)
        operatorTokenLifetime = try reader.seconds("CP_OPERATOR_TOKEN_TTL_SECONDS", 900, 60...86_400)
        credentialCacheTTL = try reader.seconds("CP_CREDENTIAL_CACHE_TTL_SECONDS", 30, 0...3600)
        argon2MemoryKiB = UInt32(try reader.integer("CP_ARGON2_MEMORY_KIB", 19_456, 8...4_194_304))
        argon2Iterations = UInt32(try reader.integer("CP_ARGON2_ITERATIONS", 2, 1...100))
        argon2Threads = try reader.integer(
            "CP_ARGON2_THREADS", max(1, ProcessInfo.processInfo.activeProcessorCount), 1...256)
        argon2QueueDepth = try reader.integer("CP_ARGON2_QUEUE_DEPTH", 16, 0...10_000)
    }
}
