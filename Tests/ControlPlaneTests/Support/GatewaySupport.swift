import AsyncHTTPClient
import ControlPlane
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Persistence
import PostgresNIO
import Testing

/// Helpers for the gateway tests: an application whose operator defaults point every provider at the
/// fake, and a tenant with a policy and budget of the test's choosing.
enum Gateway {
    static func configure(port: Int, _ extra: @escaping @Sendable (inout Configuration) -> Void = { _ in })
        -> @Sendable (inout Configuration) -> Void
    {
        { configuration in
            configuration.gateway.providerDefaults = [
                "openai": ("http://127.0.0.1:\(port)/v1", "sk-test"),
                "groq": ("http://127.0.0.1:\(port)/v1", "gsk-test"),
                "gemini": ("http://127.0.0.1:\(port)", "gemini-test"),
                "anthropic": ("http://127.0.0.1:\(port)", "sk-ant-test"),
            ]
            configuration.gateway.providerAttempts = 2
            extra(&configuration)
        }
    }

    /// A candidate; its default `max_tokens` makes the worst case of the tests' one-word prompt exactly
    /// 1,000 tokens (a prompt estimate of 26 plus 974), what the fake bills.
    static func candidate(_ provider: String, _ model: String, maxTokens: Int = 974, timeoutMs: Int = 10_000)
        -> [String: Any]
    {
        ["provider": provider, "model": model, "max_tokens": maxTokens, "timeout_ms": timeoutMs]
    }

    /// Sets the tenant's policy (chat and default routes to `candidates`) and its budget.
    static func setUp(
        _ client: any TestClientProtocol, _ tenant: SignedUpTenant, candidates: [[String: Any]],
        tokenLimit: Int = 1_000_000, onExhausted: String = "block", pressure: [String: Any]? = nil,
        cache: Bool = false, hourly: Int = 100_000
    ) async throws {
        var policy: [String: Any] = [
            "routes": ["chat": candidates, "default": candidates], "max_tokens_per_request": 4096,
            "max_llm_requests_per_hour": hourly, "cache": ["enabled": cache, "ttl_seconds": 600],
        ]
        if let pressure { policy["on_budget_pressure"] = pressure }
        let set = try await client.send(.put, "/v1/policy", token: tenant.token, json: policy)
        #expect(set.status == .ok, "policy: \(String(buffer: set.body))")
        let budget = try await client.send(
            .put, "/v1/budget", token: tenant.token,
            json: ["period": "month", "token_limit": tokenLimit, "on_exhausted": onExhausted])
        #expect(budget.status == .ok, "budget: \(String(buffer: budget.body))")
    }

    static func chat(
        _ client: any TestClientProtocol, _ tenant: SignedUpTenant, model: String = "auto", stream: Bool = false,
        maxTokens: Int? = nil
    ) async throws -> TestResponse {
        var body: [String: Any] = ["model": model, "messages": [["role": "user", "content": "hi"]]]
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        if let maxTokens { body["max_tokens"] = maxTokens }
        return try await client.send(.post, "/v1/llm/chat/completions", token: tenant.token, json: body)
    }

    /// The tenant's ledger: billed (not cached) tokens, and the number of cached rows.
    static func ledger(_ tenantID: String) async throws -> (billed: Int64, cached: Int, reasoning: Int64) {
        let id = try #require(TenantID(string: tenantID))
        return try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(id) { transaction in
                var result: (Int64, Int, Int64) = (0, 0, 0)
                for try await row in try await transaction.query(
                    """
                    SELECT COALESCE(sum(total_tokens) FILTER (WHERE NOT cached), 0)::bigint,
                           count(*) FILTER (WHERE cached)::int,
                           COALESCE(sum(reasoning_tokens) FILTER (WHERE NOT cached), 0)::bigint
                    FROM usage_records
                    """
                ).decode((Int64, Int, Int64).self) {
                    result = row
                }
                return result
            }
        }
    }

    /// What `llm_call_begin` answers for a plan held exactly as the database has it now (its version and
    /// `llm_call_plan`'s credentials digest): must be `granted`, else the one-statement path never runs.
    /// The one-token reservation it makes is released again.
    static func beginOutcomeForACurrentPlan(_ tenantID: String) async throws -> String {
        let id = try #require(TenantID(string: tenantID))
        let reservation = UUID()
        return try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(id) { transaction in
                var outcome = ""
                for try await value in try await transaction.query(
                    """
                    SELECT outcome FROM llm_call_begin(
                        \(id.rawValue), (SELECT COALESCE(max(version), 0) FROM llm_policies),
                        (SELECT digest FROM llm_credentials_digest(\(id.rawValue))), '\\x00'::bytea, 3600, 1000000, NULL,
                        \(reservation), 1, 1, 1, 60)
                    """
                ).decode(String.self) {
                    outcome = value
                }
                _ = try await transaction.query("SELECT budget_release(\(id.rawValue), \(reservation))")
                return outcome
            }
        }
    }

    /// Periods whose counters disagree with the ledger or the open reservations (none, when all is well).
    static func discrepancies(_ tenantID: String) async throws -> Int {
        let id = try #require(TenantID(string: tenantID))
        return try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(id) { transaction in
                var count = 0
                for try await _ in try await transaction.query(
                    "SELECT 1 FROM budget_reconciliation WHERE used <> ledger_tokens OR reserved <> open_reservations")
                {
                    count += 1
                }
                return count
            }
        }
    }

    /// Expects the tenant's counters to reconcile with its ledger and nothing to be left reserved.
    static func expectSettled(
        _ client: any TestClientProtocol, _ tenant: SignedUpTenant, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(try await discrepancies(tenant.tenantID) == 0, sourceLocation: sourceLocation)
        let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
        #expect(
            (budget["current"] as? [String: Any])?["reserved"] as? Int == 0, sourceLocation: sourceLocation)
    }

    /// The SSE `data:` payloads of a streamed answer.
    static func events(_ response: TestResponse) -> [String] {
        String(buffer: response.body).components(separatedBy: "\n\n").compactMap {
            $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : nil
        }
    }
}
