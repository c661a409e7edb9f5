import Billing
import Foundation
import Providers
import Tenancy

extension LLMGateway {
    /// One streamed completion for `call`. Candidates are tried (with retries and fallback) until one
    /// starts streaming; from then on that one answers. The stream is read to its end by a task of its
    /// own, so a caller that stops reading (a client that hangs up) is still billed what the provider
    /// billed, from the stream's own usage.
    public func stream(_ call: LLMCall) async throws -> LLMStream {
        let begun: Reserved
        switch try await begin(call) {
        case .cached(let hit, let provider):
            let events = AsyncThrowingStream<ChatStreamEvent, any Error> { continuation in
                continuation.yield(.delta(hit.content))
                continuation.yield(.finish(hit.finishReason))
                continuation.yield(.usage(hit.usage))
                continuation.finish()
            }
            return LLMStream(provider: provider, model: hit.model, cached: true, events: events)
        case .reserved(let reserved):
            begun = reserved
        }
        let (plan, reservation, cacheKey) = (begun.plan, begun.reservation, begun.cacheKey)
        do {
            let opened = try await firstStarted(
                call, plan, candidates: begun.candidates, cap: begun.cap, reservation: reservation
            ) { provider, request in
                try await provider.stream(request)
            }
            let candidate = opened.candidate
            let events = relay(
                opened.value, call: call, candidate: candidate, reservation: reservation, breaker: opened.breaker,
                started: opened.started, cacheKey: cacheKey, cacheTTL: plan.policy.cache.ttlSeconds)
            return LLMStream(provider: candidate.provider, model: candidate.model, cached: false, events: events)
        } catch {
            await release(reservation)
            throw error
        }
    }

    /// Reads `upstream` to its end in a task of its own, passing every event on while someone listens,
    /// then charges the stream's usage and ends the reservation. A stream cut short charges what the
    /// provider had reported by then (if anything) and fails the listener's stream.
    func relay(
        _ upstream: AsyncThrowingStream<ChatStreamEvent, any Error>, call: LLMCall, candidate: LLMPolicy.Candidate,
        reservation: Reservation, breaker: CircuitBreaker, started: ContinuousClock.Instant, cacheKey: String?,
        cacheTTL: Int
    ) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let (events, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        let gateway = self
        Task {
            var usage: TokenUsage?
            var text = ""
            var finish = "stop"
            do {
                for try await event in upstream {
                    switch event {
                    case .usage(let reported): usage = reported
                    case .delta(let piece): if text.utf8.count < 1 << 20 { text += piece }
                    case .finish(let reason): finish = reason
                    }
                    continuation.yield(event)
                }
                breaker.recordSuccess()
                gateway.observer?.attempt(
                    provider: candidate.provider, model: candidate.model, duration: .now - started, error: nil)
                let billed = usage ?? .zero
                try await gateway.charge(
                    billed, call: call, provider: candidate.provider, model: candidate.model, cached: false,
                    reservation: reservation, release: true)
                if let cache = gateway.cache, let cacheKey, usage != nil {
                    await cache.store(
                        cacheKey,
                        result: ChatResult(
                            id: "", model: candidate.model, content: text, finishReason: finish, usage: billed),
                        provider: candidate.provider, ttlSeconds: cacheTTL)
                }
                continuation.finish()
            } catch {
                let failure = Self.providerError(error, provider: candidate.provider)
                if failure.isProviderFault { breaker.recordFailure() } else { breaker.recordNeutral() }
                gateway.observer?.attempt(
                    provider: candidate.provider, model: candidate.model, duration: .now - started, error: failure)
                if let billed = failure.billed ?? usage {
                    try? await gateway.charge(
                        billed, call: call, provider: candidate.provider, model: candidate.model, cached: false,
                        reservation: reservation, release: true)
                } else {
                    await gateway.release(reservation)
                }
                continuation.finish(throwing: GatewayError.providersFailed(failure))
            }
        }
        return events
    }
}
