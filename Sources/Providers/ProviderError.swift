import Foundation

/// A provider call that failed, classified so that retries and fallback know what to do with it. The
/// message is safe to show (it never carries a credential).
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// 429: retried after the provider's `Retry-After` / `retryDelay`, then the next candidate.
        case rateLimited = "rate_limited"
        /// 5xx or overloaded: retried with backoff, then the next candidate.
        case server
        /// No answer within the candidate's timeout.
        case timeout
        /// The connection failed.
        case network
        /// 401: the credential is wrong. Never retried.
        case unauthorized
        /// 403. Never retried.
        case forbidden
        /// 404: no such model or route. Never retried.
        case notFound = "not_found"
        /// The request or its context is too large. Never retried.
        case requestTooLarge = "request_too_large"
        /// The account's quota or spending cap is used up. Never retried.
        case spendCap = "spend_cap"
        /// Any other 4xx: the request itself is wrong. Never retried.
        case badRequest = "bad_request"
        /// The answer could not be understood.
        case invalidResponse = "invalid_response"
        /// The provider's circuit breaker is open: not called at all.
        case circuitOpen = "circuit_open"
        /// The base URL points where tenants may not reach (loopback, private, link-local, metadata).
        case addressRefused = "address_refused"
        /// No credential is configured for this provider.
        case notConfigured = "not_configured"
    }

    public let kind: Kind
    public let provider: ProviderKind
    public let status: Int?
    /// How long the provider asked us to wait.
    public let retryAfter: Duration?
    public let message: String
    /// What the provider billed for the failed attempt, when it said (a stream cut short).
    public var billed: TokenUsage?

    public init(
        _ kind: Kind, provider: ProviderKind, status: Int? = nil, retryAfter: Duration? = nil, message: String,
        billed: TokenUsage? = nil
    ) {
        self.kind = kind
        self.provider = provider
        self.status = status
        self.retryAfter = retryAfter
        self.message = message
        self.billed = billed
    }

    /// Whether another attempt (on this candidate, after a pause) may succeed.
    public var isRetryable: Bool {
        switch kind {
        case .rateLimited, .server, .timeout, .network: true
        default: false
        }
    }

    /// Whether the next candidate of the policy should be tried.
    public var fallsBack: Bool {
        isRetryable || kind == .circuitOpen || kind == .notConfigured
    }

    /// Whether this failure counts against the provider's health (the circuit breaker).
    public var isProviderFault: Bool {
        switch kind {
        case .server, .timeout, .network: true
        default: false
        }
    }

    public var description: String {
        "\(provider.rawValue) \(kind.rawValue)\(status.map { " \($0)" } ?? ""): \(message)"
    }
}
