import Billing
import Foundation
import Providers
import Tenancy

extension LLMGateway {
    /// One whole completion for `call`.
    public func complete(_ call: LLMCall) async throws -> LLMAnswer {
        let plan = try await plan(call)
        try await countHourly(call, policy: plan.policy)
        let cacheKey = cacheKey(call, plan)
        if let cache, let cacheKey, let (hit, provider) = await cache.lookup(cacheKey) {
            try await charge(
                hit.usage, call: call, provider: provider, model: hit.model, cached: true, reservation: nil,
                release: false)
            var result = hit
            result.id = "chatcmpl-\(call.requestID)"
            return LLMAnswer(result: result, provider: provider, model: hit.model, cached: true, degraded: false)
        }

        let (reservation, candidates, cap) = try await reserve(call, plan)
        var lastError: ProviderError?
        do {
            for candidate in candidates {
                let kind = candidate.provider
                let maxTokens = plan.maxTokens(candidate, asked: call.maxTokens, cap: cap)
                let credential = plan.credentials[kind]
                let breaker = registry.breaker(kind, endpoint: registry.endpoint(kind, tenantCredential: credential))
                let provider: any LLMProvider
                do {
                    provider = try await registry.provider(kind, tenantCredential: credential)
                } catch {
                    lastError = Self.providerError(error, provider: kind)
                    continue
                }
                var attempt = 1
                while true {
                    guard breaker.allow() else {
                        lastError = ProviderError(
                            .circuitOpen, provider: kind, message: "\(kind.rawValue) is failing; its circuit is open")
                        break
                    }
                    let started = ContinuousClock.now
                    do {
                        let result = try await provider.complete(request(call, candidate, maxTokens: maxTokens))
                        breaker.recordSuccess()
                        observer?.attempt(
                            provider: kind, model: candidate.model, duration: .now - started, error: nil)
                        try await charge(
                            result.usage, call: call, provider: kind, model: candidate.model, cached: false,
                            reservation: reservation, release: true)
                        if let cache, let cacheKey {
                            await cache.store(
                                cacheKey, result: result, provider: kind, ttlSeconds: plan.policy.cache.ttlSeconds)
                        }
                        var answer = result
                        answer.id = "chatcmpl-\(call.requestID)"
                        return LLMAnswer(
                            result: answer, provider: kind, model: candidate.model, cached: false,
                            degraded: reservation.isDegraded)
                    } catch {
                        let failure = Self.providerError(error, provider: kind)
                        if failure.isProviderFault { breaker.recordFailure() } else { breaker.recordNeutral() }
                        observer?.attempt(
                            provider: kind, model: candidate.model, duration: .now - started, error: failure)
                        if let billed = failure.billed {
                            try await charge(
                                billed, call: call, provider: kind, model: candidate.model, cached: false,
                                reservation: reservation, release: false)
                        }
                        lastError = failure
                        if let pause = retry.delay(after: failure, attempt: attempt) {
                            try await Task.sleep(for: pause)
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
        } catch {
            await release(reservation)
            throw error
        }
    }
}
