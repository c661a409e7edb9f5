import Foundation
import NIOCore
import NIOFoundationCompat
import Persistence
import Providers

extension LLMGateway {
    /// What one call will try, worked out before anything is reserved.
    struct Plan: Sendable {
        let policy: LLMPolicy
        let candidates: [LLMPolicy.Candidate]
        let pressureCandidates: [LLMPolicy.Candidate]
        let credentials: [ProviderKind: CredentialRepository.Credential]
        let estimate: Int64

        func maxTokens(_ candidate: LLMPolicy.Candidate, asked: Int?, cap: Int? = nil) -> Int {
            min(candidate.maxTokens, asked ?? Int.max, policy.maxTokensPerRequest, cap ?? Int.max)
        }
    }

    /// The counter behind `max_llm_requests_per_hour`.
    static func hourlyThrottle(limit: Int) -> FixedWindowThrottle {
        FixedWindowThrottle(scope: "llm-hour", limit: limit, window: .seconds(3600))
    }

    /// Reads the policy, the credentials and the budget's standing and counts the call against
    /// `max_llm_requests_per_hour`, all in one statement (`llm_call_plan`); throws when the hourly cap is
    /// reached or the asked model is not in the policy. Every call counts, refused ones included. What it
    /// read is kept (`HeldPlans`) so the tenant's next calls can begin in one statement.
    func plan(_ call: LLMCall) async throws -> Plan {
        let counter = Self.hourlyThrottle(limit: 0)
        let rows = try await database.query(
            """
            SELECT policy_version, policy_document, credential_providers, credential_keys, credential_base_urls,
                   credentials_digest, budget_token_limit, budget_used, hour_hits, hour_resets_in
            FROM llm_call_plan(\(call.tenantID.rawValue), \(counter.digest(call.tenantID.description)),
                               \(counter.windowSeconds))
            """, for: call.tenantID, logger: database.logger)
        var found: PlanRow?
        for try await row in rows.decode(
            (Int, String?, [String], [ByteBuffer], [String], String, Int64?, Int64?, Int, Double).self)
        {
            found = PlanRow(row)
        }
        guard let row = found else { throw CallPlanMissing() }
        let policy = try row.document.map { try PolicyRepository.decode($0) } ?? .standard

        if let refusal = Self.hourlyRefusal(policy, hits: row.hourHits, resetsIn: row.hourResetsIn) { throw refusal }

        let wanted = Set(policy.allCandidates.map(\.provider)).subtracting([.mock])
        var stored: [ProviderKind: CredentialRepository.Credential] = [:]
        for (index, name) in row.providers.enumerated() where index < row.keys.count {
            guard let provider = ProviderKind(rawValue: name), wanted.contains(provider) else { continue }
            stored[provider] = try credentials.open(
                row.keys[index], baseURL: row.baseURL(at: index),
                provider: provider, tenantID: call.tenantID)
        }
        heldPlans.keep(
            HeldPlan(
                version: row.version, policy: policy, credentialsDigest: row.credentialsDigest, credentials: stored),
            for: call.tenantID)

        var pressure = false
        if let threshold = policy.onBudgetPressure?.thresholdPercent, let limit = row.budgetLimit {
            pressure = Double(row.budgetUsed) * 100 >= Double(limit) * Double(threshold)
        }
        return Plan(
            policy: policy, candidates: try Self.candidates(policy, for: call, underPressure: pressure),
            pressureCandidates: policy.candidates(for: call.kind, underPressure: true, repository: call.repository),
            credentials: stored,
            estimate: Self.estimate(call))
    }

    /// The refusal of a call that made `hits` in the current hour under `policy`'s cap; nil within it.
    static func hourlyRefusal(_ policy: LLMPolicy, hits: Int, resetsIn: Double) -> GatewayError? {
        guard
            case .limited(let retryAfter) = hourlyThrottle(limit: policy.maxLLMRequestsPerHour)
                .decision(hits: hits, resetsIn: resetsIn)
        else { return nil }
        return .hourlyLimit(limit: policy.maxLLMRequestsPerHour, retryAfter: retryAfter)
    }

    /// The candidates `policy` gives `call`, the model the caller asked for first; throws when the policy
    /// does not allow that model.
    static func candidates(_ policy: LLMPolicy, for call: LLMCall, underPressure: Bool) throws
        -> [LLMPolicy.Candidate]
    {
        let candidates = policy.candidates(for: call.kind, underPressure: underPressure, repository: call.repository)
        guard let model = call.model, model != "auto" else { return candidates }
        guard let chosen = policy.allCandidates.first(where: { $0.id == model || $0.model == model }) else {
            throw GatewayError.modelNotAllowed(model)
        }
        return [chosen] + candidates.filter { $0.id != chosen.id }
    }

    /// The prompt's token estimate, held in the reservation beside `max_tokens`.
    static func estimate(_ call: LLMCall) -> Int64 {
        ChatRequest(model: "", messages: call.messages, maxTokens: 0, requestID: "").promptTokenEstimate
    }
}

/// `llm_call_plan` answered no row (it always answers one).
struct CallPlanMissing: Error {}

/// One row of `llm_call_plan`.
private struct PlanRow {
    let version: Int
    let document: String?
    let providers: [String]
    let keys: [Data]
    /// Empty where the credential has no base URL.
    let baseURLs: [String]
    let credentialsDigest: String
    let budgetLimit: Int64?
    let budgetUsed: Int64
    let hourHits: Int
    let hourResetsIn: Double

    func baseURL(at index: Int) -> String? {
        index < baseURLs.count && !baseURLs[index].isEmpty ? baseURLs[index] : nil
    }

    init(_ row: (Int, String?, [String], [ByteBuffer], [String], String, Int64?, Int64?, Int, Double)) {
        version = row.0
        document = row.1
        providers = row.2
        keys = row.3.map { Data(buffer: $0) }
        baseURLs = row.4
        credentialsDigest = row.5
        budgetLimit = row.6
        budgetUsed = row.7 ?? 0
        hourHits = row.8
        hourResetsIn = row.9
    }
}
