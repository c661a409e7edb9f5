import Billing
import Foundation
import Providers

extension LLMGateway {
    /// One streamed completion for `call`. Candidates are tried (with retries and fallback) until one
    /// starts streaming; from then on that one answers. The stream is read to its end by a task of its
    /// own, so a caller that stops reading (a client that hangs up) is still billed what the provider
    /// billed, from the stream's own usage.
    public func stream(_ call: LLMCall) async throws -> LLMStream {
        try await reserving(call) { hit, provider in
            let events = ChatEventStream.of([.delta(hit.content), .finish(hit.finishReason), .usage(hit.usage)])
            return LLMStream(
                provider: provider, model: hit.model, cached: true, events: events, deadline: .now + .seconds(60))
        } _: { begun in
            let (plan, reservation, cacheKey) = (begun.plan, begun.reservation, begun.cacheKey)
            let opened = try await firstStarted(
                call, plan, candidates: begun.candidates, cap: begun.cap, reservation: reservation
            ) { provider, request in
                try await provider.stream(request)
            }
            let candidate = opened.candidate
            let attempt = StreamAttempt(
                call: call, candidate: candidate, reservation: reservation, breaker: opened.breaker,
                started: opened.started, maxTokens: plan.maxTokens(candidate, asked: call.maxTokens, cap: begun.cap))
            let events = relay(opened.value, attempt, cacheKey: cacheKey, cacheTTL: plan.policy.cache.ttlSeconds)
            return LLMStream(
                provider: candidate.provider, model: candidate.model, cached: false, events: events,
                deadline: opened.started + .milliseconds(candidate.timeoutMs))
        }
    }

    /// Passes `upstream` on through a bounded buffer, read only as fast as the listener reads, all of it
    /// within the candidate's `timeout_ms` from the attempt's start; then charges the stream's usage and
    /// ends the reservation. A stream cut short (the provider failed or stalled, the deadline came, the
    /// listener left or stopped reading until the deadline) is charged what the provider reported, or
    /// else an estimate of what was streamed: the prompt's estimate plus a token per four bytes of text
    /// (at most the request's `max_tokens`).
    func relay(_ upstream: ChatEventStream, _ attempt: StreamAttempt, cacheKey: ResponseCache.Key?, cacheTTL: Int)
        -> ChatEventStream
    {
        let events = ChatEventStream(limit: registry.transport.streamBufferBytes, weigh: { $0.weight })
        let gateway = self
        let deadline = attempt.started + .milliseconds(attempt.candidate.timeoutMs)
        let task = Task {
            let (relayed, expired) = await untilDeadline(deadline) {
                await Self.pass(upstream, to: events, provider: attempt.candidate.provider)
            }
            await gateway.settle(
                relayed, expired: expired, attempt, events: events, cacheKey: cacheKey, cacheTTL: cacheTTL)
        }
        events.onTermination = { task.cancel() }
        return events
    }

    /// What a relayed stream carried, and how it ended.
    struct Relayed: Sendable {
        enum End: Sendable {
            /// The provider's stream ended whole.
            case complete
            /// The provider's stream failed.
            case failed(ProviderError)
            /// The listener left.
            case listenerLeft
            /// The relay was stopped: by the deadline, or the listener's leaving cancelled it.
            case stopped
        }
        var usage: TokenUsage?
        var text = ""
        var textBytes = 0
        var finish = "stop"
        var end = End.stopped
    }

    /// One streamed attempt: its call, candidate, reservation, breaker and start.
    struct StreamAttempt: Sendable {
        let call: LLMCall
        let candidate: LLMPolicy.Candidate
        let reservation: Reservation
        let breaker: CircuitBreaker
        let started: ContinuousClock.Instant
        /// The request's `max_tokens`: no estimate of a cut stream's output goes past it.
        let maxTokens: Int
    }

    /// Moves events from `upstream` to `events` until either ends, or the task is cancelled.
    static func pass(_ upstream: ChatEventStream, to events: ChatEventStream, provider: ProviderKind) async -> Relayed {
        var relayed = Relayed()
        do {
            for try await event in upstream {
                switch event {
                case .usage(let reported): relayed.usage = reported
                case .delta(let piece):
                    relayed.textBytes += piece.utf8.count
                    if relayed.text.utf8.count < 1 << 20 { relayed.text += piece }
                case .finish(let reason): relayed.finish = reason
                }
                guard await events.send(event) else {
                    relayed.end = events.consumerLeft ? .listenerLeft : .stopped
                    return relayed
                }
            }
            relayed.end = Task.isCancelled ? (events.consumerLeft ? .listenerLeft : .stopped) : .complete
        } catch {
            relayed.end = .failed(providerError(error, provider: provider))
        }
        return relayed
    }

    /// Charges and reports a relayed stream and ends the listener's stream accordingly.
    func settle(
        _ relayed: Relayed, expired: Bool, _ attempt: StreamAttempt, events: ChatEventStream,
        cacheKey: ResponseCache.Key?,
        cacheTTL: Int
    ) async {
        let (call, candidate) = (attempt.call, attempt.candidate)
        let duration = ContinuousClock.now - attempt.started
        let streamed = TokenUsage(
            promptTokens: Self.estimate(call),
            completionTokens: min(Int64(attempt.maxTokens), Int64((relayed.textBytes + 3) / 4)),
            reasoningTokens: 0)
        var failure: ProviderError?
        var billed = relayed.usage ?? streamed
        switch relayed.end {
        case .complete:
            attempt.breaker.recordSuccess()
        case .failed(let error):
            failure = error
            billed = error.billed ?? relayed.usage ?? streamed
            if error.isProviderFault { attempt.breaker.recordFailure() } else { attempt.breaker.recordNeutral() }
        case .listenerLeft where !expired:
            attempt.breaker.recordNeutral()
        case .listenerLeft, .stopped:
            let error = ProviderError(
                .timeout, provider: candidate.provider,
                message: "the stream did not end within timeout_ms (\(candidate.timeoutMs) ms)")
            failure = error
            attempt.breaker.recordFailure()
        }
        observer?.attempt(provider: candidate.provider, model: candidate.model, duration: duration, error: failure)
        observer?.streamed(provider: candidate.provider, bytes: relayed.textBytes)
        do {
            try await charge(
                billed, call: call, provider: candidate.provider, model: candidate.model, cached: false,
                reservation: attempt.reservation, release: true)
        } catch {
            await release(attempt.reservation)
        }
        if case .complete = relayed.end, let cache, let cacheKey, relayed.usage != nil {
            await cache.store(
                cacheKey,
                result: ChatResult(
                    id: "", model: candidate.model, content: relayed.text, finishReason: relayed.finish, usage: billed),
                provider: candidate.provider, ttlSeconds: cacheTTL)
        }
        if let failure {
            events.finish(throwing: GatewayError.providersFailed(failure))
        } else {
            events.finish()
        }
    }
}
