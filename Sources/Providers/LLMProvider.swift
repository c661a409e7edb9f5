import Foundation

/// One LLM provider's API, translated to and from the provider-neutral types. Implementations make one
/// attempt per call; retries, fallback and the circuit breaker sit above them.
public protocol LLMProvider: Sendable {
    var kind: ProviderKind { get }

    /// One whole completion.
    func complete(_ request: ChatRequest) async throws -> ChatResult

    /// One streamed completion. Errors before the first byte are thrown here; a stream cut short ends
    /// by throwing `ProviderError` with whatever usage the provider reported by then.
    func stream(_ request: ChatRequest) async throws -> ChatEventStream
}
