import Billing
import Foundation
import Providers
import Tenancy

extension LLMGateway {
    /// One whole completion for `call`.
    public func complete(_ call: LLMCall) async throws -> LLMAnswer {
        let (plan, reservation, candidates, cap, cacheKey): (Plan, Reservation, [LLMPolicy.Candidate], Int?, String?)
        switch try await begin(call) {
        case .cached(let hit, let provider):
            var result = hit
            result.id = "chatcmpl-\(call.requestID)"
            return LLMAnswer(result: result, provider: provider, model: hit.model, cached: true, degraded: false)
        case .reserved(let planned, let held, let tried, let limit, let key):
            (plan, reservation, candidates, cap, cacheKey) = (planned, held, tried, limit, key)
        }
        do {
            let answered = try await firstStarted(
                call, plan, candidates: candidates, cap: cap, reservation: reservation
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
        } catch {
            await release(reservation)
            throw error
        }
    }
}
