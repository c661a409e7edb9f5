import Billing
import Foundation
import Persistence
import Providers

/// Every LLM call of the platform goes through here, from the HTTP gateway and from the runtime alike:
/// the tenant's policy picks the candidates (the cheaper ones under budget pressure), the hourly cap and
/// the response cache apply, the worst case is reserved from the budget before any provider is called,
/// each candidate is tried with retries and behind its circuit breaker, every billed attempt goes to the
/// ledger, and whatever was not used is released on every way out.
public struct LLMGateway: Sendable {
    let database: Database
    let budget: TokenBudget
    let registry: ProviderRegistry
    let prices: PriceTable
    let cache: ResponseCache?
    let retry: RetryPolicy
    let observer: (any GatewayObserver)?
    let credentials: CredentialRepository
    let policies = PolicyRepository()
    /// The policies and credentials this replica holds, so most calls begin in one statement.
    let heldPlans = HeldPlans()
    /// Begins of one tenant's concurrent calls, batched into one statement and one commit.
    let begins: TenantBatcher<BeginStatement, BeginRow>

    public init(
        database: Database, budget: TokenBudget, registry: ProviderRegistry, prices: PriceTable,
        cache: ResponseCache?, retry: RetryPolicy, credentials: CredentialRepository,
        observer: (any GatewayObserver)?
    ) {
        self.database = database
        self.budget = budget
        self.registry = registry
        self.prices = prices
        self.cache = cache
        self.retry = retry
        self.credentials = credentials
        self.observer = observer
        self.begins = Self.beginBatcher(database)
    }

    /// The candidates the tenant's policy allows, for `GET /v1/llm/models`.
    public func allowedModels(for tenantID: TenantID) async throws -> [LLMPolicy.Candidate] {
        try await database.withTenant(tenantID) { try await policies.current(in: $0).policy.allCandidates }
    }

    func request(_ call: LLMCall, _ candidate: LLMPolicy.Candidate, maxTokens: Int) -> ChatRequest {
        ChatRequest(
            model: candidate.model, messages: call.messages, maxTokens: maxTokens, temperature: call.temperature,
            topP: call.topP, stop: call.stop, requestID: call.requestID,
            timeout: .milliseconds(candidate.timeoutMs))
    }

    /// The worst case of a call under `plan`: the prompt's estimate and the largest `max_tokens` of its
    /// candidates.
    func worstCase(_ call: LLMCall, _ plan: Plan) -> Int64 {
        plan.estimate + Int64(plan.candidates.map { plan.maxTokens($0, asked: call.maxTokens) }.max() ?? 1)
    }

    /// How long a reservation for a call that may go to `candidates` must live: the configured lifetime,
    /// or longer when the call may take longer (every attempt of every candidate its timeout, the longest
    /// pause between attempts, and ten seconds for the rest), so no reservation lapses while its call runs.
    /// A call goes to one of the sets (the normal candidates, or the pressure ones when the budget
    /// degraded it), so the longer of them counts.
    func reservationLifetime(_ candidateSets: [LLMPolicy.Candidate]...) -> Duration {
        let attempts = retry.attempts
        let longest =
            candidateSets.map { candidates in
                candidates.reduce(Duration.zero) {
                    $0 + .milliseconds($1.timeoutMs) * attempts + retry.maxWait * (attempts - 1)
                }
            }.max() ?? .zero
        return max(budget.reservationLifetime, longest + .seconds(10))
    }

    /// Reserves the worst case of `plan` and answers the reservation and the candidates to try (the
    /// pressure candidates, with `max_tokens` lowered, when the budget degraded the call).
    func reserve(_ call: LLMCall, _ plan: Plan) async throws -> (Reservation, [LLMPolicy.Candidate], Int?) {
        let reservation: Reservation
        do {
            reservation = try await budget.reserve(
                worstCase(call, plan), minimum: plan.estimate + 1, for: call.tenantID,
                lifetime: reservationLifetime(plan.candidates, plan.pressureCandidates))
        } catch let exhausted as BudgetExhausted {
            observer?.budgetExhausted(tenantID: call.tenantID)
            throw exhausted
        }
        let (candidates, cap) = reserved(reservation, call, plan)
        return (reservation, candidates, cap)
    }

    /// Reports what `reservation` left of the budget and answers the candidates to try and the cap on
    /// `max_tokens`: the pressure candidates, lowered to what it holds, when the budget degraded the call.
    func reserved(_ reservation: Reservation, _ call: LLMCall, _ plan: Plan) -> ([LLMPolicy.Candidate], Int?) {
        observer?.budgetRemaining(
            tenantID: call.tenantID,
            tokens: max(0, reservation.tokenLimit - reservation.usedBefore - reservation.tokens))
        guard reservation.isDegraded else { return (plan.candidates, nil) }
        let cap = Int(clamping: max(1, reservation.tokens - plan.estimate))
        return (plan.pressureCandidates.isEmpty ? plan.candidates : plan.pressureCandidates, cap)
    }

    /// Appends a billed attempt (or a cache hit) to the ledger; with `release`, ends the reservation.
    /// Runs to the end even when the caller's task is cancelled: money is never left half-written.
    func charge(
        _ usage: TokenUsage, call: LLMCall, provider: ProviderKind, model: String, cached: Bool,
        reservation: Reservation?, release: Bool
    ) async throws {
        let cost = cached ? 0 : prices.cost(usage, provider: provider, model: model)
        let record = Usage(
            requestID: call.requestID, jobID: call.jobID, kind: call.kind.rawValue, provider: provider.rawValue,
            model: model, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
            reasoningTokens: usage.reasoningTokens, totalTokens: usage.totalTokens, cached: cached, costMicros: cost)
        let budget = self.budget
        let tenantID = call.tenantID
        _ = try await Task {
            try await budget.record(record, against: reservation, release: release, for: tenantID)
        }.value
        observer?.charged(
            tenantID: call.tenantID, usage: usage, provider: provider, model: model, kind: call.kind, cached: cached,
            costMicroUSD: cost)
    }

    /// Ends a reservation without charging, whatever the caller's task is doing.
    func release(_ reservation: Reservation) async {
        let budget = self.budget
        _ = try? await Task { try await budget.release(reservation) }.value
    }

    func cacheKey(_ call: LLMCall, _ plan: Plan) -> ResponseCache.Key? {
        guard cache != nil, plan.policy.cache.enabled else { return nil }
        let shape = ChatRequest(
            model: "", messages: call.messages, maxTokens: call.maxTokens ?? 0, temperature: call.temperature,
            topP: call.topP, stop: call.stop, requestID: "")
        return ResponseCache.key(tenantID: call.tenantID, kind: call.kind, candidates: plan.candidates, request: shape)
    }

    /// Turns any failure of an attempt into a `ProviderError`.
    static func providerError(_ error: any Error, provider: ProviderKind) -> ProviderError {
        if let error = error as? ProviderError { return error }
        return ProviderTransport.failure(error, provider: provider)
    }
}
