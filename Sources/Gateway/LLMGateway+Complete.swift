import Billing
import Foundation
import Providers

extension LLMGateway {
    /// One whole completion for `call`.
    public func complete(_ call: LLMCall) async throws -> LLMAnswer {
        try await reserving(call) { hit, provider in
            var result = hit
            result.id = "chatcmpl-\(call.requestID)"
            return LLMAnswer(result: result, provider: provider, model: hit.model, cached: true, degraded: false)
        } _: { begun in
            let (plan, reservation, cacheKey) = (begun.plan, begun.reservation, begun.cacheKey)
            let answered = try await firstStarted(
                call, plan, candidates: begun.candidates, cap: begun.cap, reservation: reservation
            ) { provider, request in
                try await provider.complete(request)
            }
            let (result, candidate) = (answered.value, answered.candidate)
            answered.breaker.recordSuccess()
            observer?.attempt(
                provider: candidate.provider, model: candidate.model, duration: .now - answered.started, error: nil)
            try await charge(
                result.usage, call: call, provider: candidate.provider, model: candidate.model, cached: false,
                reservation: reservation, release: true)
            if let cache, let cacheKey {
                await cache.store(
                    cacheKey, result: result, provider: candidate.provider, ttlSeconds: plan.policy.cache.ttlSeconds)
            }
            var answer = result
            answer.id = "chatcmpl-\(call.requestID)"
            return LLMAnswer(
                result: answer, provider: candidate.provider, model: candidate.model, cached: false,
                degraded: reservation.isDegraded)
        }
    }
}
