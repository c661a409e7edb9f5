import Billing
import BlockingWork
import Foundation
import Providers

extension LLMGateway {
    /// A candidate that answered (or started streaming): what it gave, and its breaker and start time,
    /// for the caller to report the attempt's outcome.
    struct Started<Value: Sendable>: Sendable {
        let value: Value
        let candidate: LLMPolicy.Candidate
        let breaker: CircuitBreaker
        let started: ContinuousClock.Instant
    }

    /// A cache hit for `key`, charged to the ledger as cached (free); nil when there is none.
    func cachedAnswer(_ call: LLMCall, key: ResponseCache.Key?) async throws -> (ChatResult, ProviderKind)? {
        guard let cache, let key, let (hit, provider) = await cache.lookup(key) else { return nil }
        try await charge(
            hit.usage, call: call, provider: provider, model: hit.model, cached: true, reservation: nil, release: false)
        return (hit, provider)
    }

    /// Tries `candidates` in order until `start` succeeds for one: each behind its circuit breaker, retried
    /// on 429, 5xx and timeouts as the retry policy says, the next one tried when it gives up. A failed
    /// attempt the provider billed is charged; a failure the request itself caused ends the call. The
    /// caller releases the reservation when this throws.
    func firstStarted<Value: Sendable>(
        _ call: LLMCall, _ plan: Plan, candidates: [LLMPolicy.Candidate], cap: Int?, reservation: Reservation,
        start: (any LLMProvider, ChatRequest) async throws -> Value
    ) async throws -> Started<Value> {
        var lastError: ProviderError?
        for candidate in candidates {
            let kind = candidate.provider
            let credential = plan.credentials[kind]
            let breaker = registry.breaker(
                kind, endpoint: registry.endpoint(kind, tenantCredential: credential), tenantID: call.tenantID)
            let provider: any LLMProvider
            do {
                provider = try await registry.provider(kind, tenantCredential: credential)
            } catch {
                lastError = Self.providerError(error, provider: kind)
                continue
            }
            let request = request(
                call, candidate, maxTokens: plan.maxTokens(candidate, asked: call.maxTokens, cap: cap))
            var attempt = 1
            while true {
                guard breaker.allow() else {
                    lastError = ProviderError(
                        .circuitOpen, provider: kind, message: "\(kind.rawValue) is failing; its circuit is open")
                    break
                }
                let started = ContinuousClock.now
                do {
                    let value = try await start(provider, request)
                    return Started(value: value, candidate: candidate, breaker: breaker, started: started)
                } catch {
                    let failure = Self.providerError(error, provider: kind)
                    if failure.isProviderFault { breaker.recordFailure() } else { breaker.recordNeutral() }
                    observer?.attempt(provider: kind, model: candidate.model, duration: .now - started, error: failure)
                    if let billed = failure.billed {
                        try await charge(
                            billed, call: call, provider: kind, model: candidate.model, cached: false,
                            reservation: reservation, release: false)
                    }
                    lastError = failure
                    if let pause = retry.delay(after: failure, attempt: attempt) {
                        try await Pause.for(pause)
                        attempt += 1
                        continue
                    }
                    guard failure.fallsBack else { throw GatewayError.providerRejected(failure) }
                    break
                }
            }
        }
        throw GatewayError.providersFailed(
            lastError ?? ProviderError(.notConfigured, provider: .mock, message: "the policy names no candidate"))
    }
}
