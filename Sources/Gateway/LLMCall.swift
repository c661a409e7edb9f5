import Foundation
import Persistence
import Providers

/// One LLM call asked of the gateway, by the HTTP gateway or by the runtime's pipelines alike.
public struct LLMCall: Sendable {
    public var tenantID: TenantID
    public var kind: TaskKind
    /// A candidate id (`provider/model`) or bare model the policy allows, tried first; nil or `auto`
    /// follows the policy's order.
    public var model: String?
    public var messages: [ChatMessage]
    /// At most this many completion tokens (capped by the candidate and the policy).
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]
    public var requestID: String
    public var jobID: UUID?
    /// The job's repository (`owner/name`), for the policy's repository overrides; nil for API calls.
    public var repository: String?

    public init(
        tenantID: TenantID, kind: TaskKind, model: String?, messages: [ChatMessage], maxTokens: Int?,
        temperature: Double? = nil, topP: Double? = nil, stop: [String] = [], requestID: String, jobID: UUID? = nil,
        repository: String? = nil
    ) {
        self.tenantID = tenantID
        self.kind = kind
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
        self.requestID = requestID
        self.jobID = jobID
        self.repository = repository
    }
}

/// What answered a call.
public struct LLMAnswer: Sendable {
    public let result: ChatResult
    public let provider: ProviderKind
    public let model: String
    /// Served from the response cache: free, and recorded as cached.
    public let cached: Bool
    /// The budget lowered `max_tokens` (or switched to the pressure candidates) to stay within its limit.
    public let degraded: Bool
}

/// A streamed call: who answers, and the events as they come. Billing happens whether or not the
/// events are read to the end.
public struct LLMStream: Sendable {
    public let provider: ProviderKind
    public let model: String
    public let cached: Bool
    public let events: ChatEventStream
    /// When the gateway ends the stream at the latest (the attempt's `timeout_ms`).
    public let deadline: ContinuousClock.Instant
}

/// Why the gateway did not answer.
public enum GatewayError: Error, Sendable, Equatable {
    /// The requested model is not among the policy's candidates.
    case modelNotAllowed(String)
    /// `max_llm_requests_per_hour` was reached.
    case hourlyLimit(limit: Int, retryAfter: Int)
    /// Every candidate failed; the last failure.
    case providersFailed(ProviderError)
    /// A candidate refused the request itself (400, 401, 403, 404, too large, spend cap): not retried.
    case providerRejected(ProviderError)
}

/// What the gateway reports as it works, for metrics.
public protocol GatewayObserver: Sendable {
    func attempt(provider: ProviderKind, model: String, duration: Duration, error: ProviderError?)
    /// A billed attempt or cache hit; `costMicroUSD` is what the ledger row says it cost (0 when cached).
    func charged(
        tenantID: TenantID, usage: TokenUsage, provider: ProviderKind, model: String, kind: TaskKind, cached: Bool,
        costMicroUSD: Int64)
    func budgetExhausted(tenantID: TenantID)
    func budgetRemaining(tenantID: TenantID, tokens: Int64)
    /// A streamed attempt ended having passed `bytes` of text from the provider on.
    func streamed(provider: ProviderKind, bytes: Int)
}
