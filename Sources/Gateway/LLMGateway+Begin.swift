import Billing
import Foundation
import Persistence
import PostgresNIO
import Providers

extension LLMGateway {
    /// How a call begins: answered from the response cache, or with budget reserved and the candidates
    /// to try.
    enum Begun: Sendable {
        case cached(ChatResult, ProviderKind)
        case reserved(Reserved)
    }

    /// A call with its budget reserved: the plan, the candidates to try in order, the cap on `max_tokens`
    /// when the budget degraded the call, and the response-cache key when the policy caches.
    struct Reserved: Sendable {
        let plan: Plan
        let reservation: Reservation
        let candidates: [LLMPolicy.Candidate]
        let cap: Int?
        let cacheKey: ResponseCache.Key?
    }

    /// The frame a whole call and a streamed one share: `begin` (cache, plan, rate limit, reservation); a
    /// cached answer is `cached`'s to shape; otherwise `body` runs with the reservation, which is released
    /// when `body` throws (a body that returns has settled it, or handed it to its stream to settle).
    func reserving<Answer>(
        _ call: LLMCall, cached: (ChatResult, ProviderKind) -> Answer, _ body: (Reserved) async throws -> Answer
    ) async throws -> Answer {
        switch try await begin(call) {
        case .cached(let hit, let provider):
            return cached(hit, provider)
        case .reserved(let reserved):
            do {
                return try await body(reserved)
            } catch {
                await release(reserved.reservation)
                throw error
            }
        }
    }

    /// Begins `call`. With a plan held for its tenant (and no response cache in that policy, whose key
    /// depends on the candidates), in one statement (`llm_call_begin`); otherwise, or when the held plan
    /// turns out stale, by reading the plan, looking in the cache, then reserving.
    func begin(_ call: LLMCall) async throws -> Begun {
        if let held = heldPlans.plan(for: call.tenantID), !held.policy.cache.enabled,
            let begun = try await begin(call, held: held)
        {
            return begun
        }
        let plan = try await plan(call)
        let cacheKey = cacheKey(call, plan)
        if let (hit, provider) = try await cachedAnswer(call, key: cacheKey) { return .cached(hit, provider) }
        let (reservation, candidates, cap) = try await reserve(call, plan)
        return .reserved(
            Reserved(plan: plan, reservation: reservation, candidates: candidates, cap: cap, cacheKey: cacheKey))
    }

    /// One statement: checks `held` is current, counts the hour, picks the candidates by budget pressure
    /// and reserves their worst case. Nil when `held` is stale (forgotten, to be read again) or asks for
    /// a model the policy does not allow (the full path counts and refuses that call).
    private func begin(_ call: LLMCall, held: HeldPlan) async throws -> Begun? {
        let policy = held.policy
        guard let normal = try? Self.candidates(policy, for: call, underPressure: false),
            let pressured = try? Self.candidates(policy, for: call, underPressure: true)
        else { return nil }
        let estimate = Self.estimate(call)
        let planFor = { (candidates: [LLMPolicy.Candidate]) in
            Plan(
                policy: policy, candidates: candidates,
                pressureCandidates: policy.candidates(for: call.kind, underPressure: true, repository: call.repository),
                credentials: held.credentials, estimate: estimate)
        }
        let normalTokens = worstCase(call, planFor(normal))
        let pressureTokens = worstCase(call, planFor(pressured))
        let counter = Self.hourlyThrottle(limit: policy.maxLLMRequestsPerHour)
        let id = UUID()
        let ttl = Int(clamping: reservationLifetime(normal, pressured).components.seconds)
        let row = try await begins.submit(
            BeginStatement(
                tenantID: call.tenantID, policyVersion: Int32(clamping: held.version),
                credentialsDigest: held.credentialsDigest, hourSubject: counter.digest(call.tenantID.description),
                hourSeconds: counter.windowSeconds, hourLimit: Int32(clamping: policy.maxLLMRequestsPerHour),
                pressurePercent: policy.onBudgetPressure.map { Int32(clamping: $0.thresholdPercent) }, reservation: id,
                tokens: normalTokens, pressureTokens: pressureTokens, minimum: estimate + 1,
                ttlSeconds: Int32(clamping: ttl)),
            for: call.tenantID)

        switch row.outcome {
        case "stale":
            heldPlans.forget(call.tenantID)
            return nil
        case "hourly":
            // The statement refuses exactly where the throttle's decision does (more hits than the limit).
            throw Self.hourlyRefusal(policy, hits: row.hourHits, resetsIn: row.hourResetsIn)
                ?? GatewayError.hourlyLimit(limit: policy.maxLLMRequestsPerHour, retryAfter: 1)
        default:
            break
        }
        guard let start = row.periodStart, let end = row.periodEnd, let limit = row.tokenLimit else {
            throw BudgetNotFound()
        }
        let period = row.period.flatMap(Budget.Period.init(rawValue:)) ?? .month
        let requested = row.underPressure ? pressureTokens : normalTokens
        guard row.outcome == "granted" else {
            observer?.budgetExhausted(tenantID: call.tenantID)
            throw BudgetExhausted(
                period: period, periodStart: start, resetsAt: end, tokenLimit: limit, used: row.used ?? 0,
                reserved: row.reserved ?? 0, requested: requested)
        }
        let reservation = Reservation(
            id: id, tenantID: call.tenantID, tokens: row.tokens, requested: requested, period: period,
            periodStart: start, resetsAt: end, tokenLimit: limit, usedBefore: row.used ?? 0)
        let plan = planFor(row.underPressure ? pressured : normal)
        let (candidates, cap) = reserved(reservation, call, plan)
        return .reserved(
            Reserved(plan: plan, reservation: reservation, candidates: candidates, cap: cap, cacheKey: nil))
    }
}

/// One row of `llm_call_begin`.
struct BeginRow: Sendable {
    let outcome: String
    let underPressure: Bool
    let hourHits: Int
    let hourResetsIn: Double
    let tokens: Int64
    let period: String?
    let periodStart: Date?
    let periodEnd: Date?
    let tokenLimit: Int64?
    let used: Int64?
    let reserved: Int64?

    /// The columns a row is read from, first in that order (a batch's row adds its ordinal after them).
    static let columns = """
        outcome, under_pressure, hour_hits, hour_resets_in, tokens, period, period_start, period_end, token_limit, \
        used, reserved
        """

    init(_ row: PostgresRow) throws {
        let columns = try row.decode(
            (String, Bool, Int, Double, Int64, String?, Date?, Date?, Int64?, Int64?, Int64?).self)
        (outcome, underPressure, hourHits, hourResetsIn, tokens) =
            (columns.0, columns.1, columns.2, columns.3, columns.4)
        (period, periodStart, periodEnd, tokenLimit, used, reserved) =
            (columns.5, columns.6, columns.7, columns.8, columns.9, columns.10)
    }
}

/// `llm_call_begin`, prepared once per connection: every gateway call with a held plan begins with it.
struct BeginStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT \(BeginRow.columns) FROM llm_call_begin($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """
    typealias Row = BeginRow
    let tenantID: TenantID
    let policyVersion: Int32
    let credentialsDigest: String
    let hourSubject: Data
    let hourSeconds: Double
    let hourLimit: Int32
    let pressurePercent: Int32?
    let reservation: UUID
    let tokens: Int64
    let pressureTokens: Int64
    let minimum: Int64
    let ttlSeconds: Int32

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(tenantID.rawValue)
        bindings.append(policyVersion)
        bindings.append(credentialsDigest)
        try bindings.append(hourSubject)
        bindings.append(hourSeconds)
        bindings.append(hourLimit)
        bindings.append(pressurePercent)
        bindings.append(reservation)
        bindings.append(tokens)
        bindings.append(pressureTokens)
        bindings.append(minimum)
        bindings.append(ttlSeconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try BeginRow(row) }
}
