import Billing
import Foundation
import HummingbirdTesting
import Persistence
import Testing

@testable import ControlPlane
@testable import Edge

/// The budget, usage and admin routes over HTTP.
@Suite(.timeLimit(.minutes(3))) struct BudgetRouteTests {
    @Test func aTenantSetsItsBudgetWithinTheOperatorsCap() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup(timezone: "Europe/Berlin")
            let budget = try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()
            #expect(budget["period"] as? String == "month")
            #expect(budget["token_limit"] as? Int == 1_000_000)
            #expect(budget["max_token_limit"] as? Int == 10_000_000)
            let current = try #require(budget["current"] as? [String: Any])
            #expect(current["used"] as? Int == 0)
            #expect(current["remaining"] as? Int == 1_000_000)
            // A Berlin month starts at 23:00 or 22:00 UTC the day before.
            let start = try #require(current["period_start"] as? String)
            #expect(start.contains("T23:00:00") || start.contains("T22:00:00"), "\(start)")

            try await client.send(
                .put, "/v1/budget", token: tenant.token, json: ["period": "day", "token_limit": 10_000_001]
            ).expectProblem(400, "invalid_request")
            let set = try await client.send(
                .put, "/v1/budget", token: tenant.token,
                json: ["period": "week", "token_limit": 50_000, "soft_limit_percent": 90, "on_exhausted": "degrade"]
            ).jsonObject()
            #expect(set["period"] as? String == "week")
            #expect(set["on_exhausted"] as? String == "degrade")
            #expect(set["soft_limit_percent"] as? Int == 90)
            try await client.send(
                .put, "/v1/budget", token: tenant.token,
                json: ["period": "year", "token_limit": 5]
            ).expectProblem(400, "invalid_request")
            try await client.send(
                .put, "/v1/budget", token: tenant.token, json: ["period": "day", "token_limit": -1]
            ).expectProblem(400, "invalid_request")

            let capped = try await client.send(
                .put, "/v1/admin/tenants/\(tenant.tenantID)/budget", token: operatorToken,
                json: ["max_token_limit": 20_000]
            ).jsonObject()
            #expect(capped["max_token_limit"] as? Int == 20_000)
            #expect(capped["token_limit"] as? Int == 20_000, "lowering the cap lowers the limit")
            try await client.send(
                .put, "/v1/budget", token: tenant.token, json: ["period": "day", "token_limit": 20_001]
            ).expectProblem(400, "invalid_request")
            try await client.send(
                .put, "/v1/admin/tenants/\(tenant.tenantID)/budget", token: tenant.token,
                json: ["max_token_limit": 20_000]
            ).expectProblem(403, "forbidden")

            let log = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let actions = (log["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.contains("budget.update") && actions.contains("budget.admin_update"))
        }
    }

    @Test func usageTotalsComeFromTheLedgerByDayProviderAndModel() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.signup()
            let tenantID = try #require(TenantID(string: tenant.tenantID))
            try await TestEnvironment.withDatabase { pool in
                let budget = TokenBudget(
                    database: Database(client: pool, logger: TestEnvironment.logger), reservationLifetime: .seconds(60))
                for (model, tokens) in [("m-a", Int64(100)), ("m-a", 50), ("m-b", 7)] {
                    let reservation = try await budget.reserve(200, for: tenantID)
                    try await budget.record(
                        Usage(
                            requestID: "req", kind: "chat", provider: "mock", model: model, promptTokens: tokens / 2,
                            completionTokens: tokens - tokens / 2, reasoningTokens: 0, totalTokens: tokens,
                            cached: false, costMicros: tokens * 3),
                        against: reservation, release: true, for: tenantID)
                }
            }
            let usage = try await client.send(.get, "/v1/usage", token: tenant.token).jsonObject()
            let items = try #require(usage["items"] as? [[String: Any]])
            #expect(items.count == 2)
            let a = try #require(items.first { $0["model"] as? String == "m-a" })
            #expect(a["calls"] as? Int == 2)
            #expect(a["total_tokens"] as? Int == 150)
            #expect(a["cost_micros"] as? Int == 450)
            #expect(
                try await client.send(.get, "/v1/budget", token: tenant.token).jsonObject()["current"].flatMap {
                    ($0 as? [String: Any])?["used"] as? Int
                } == 157)

            let empty = try await client.send(.get, "/v1/usage", token: other.token).jsonObject()
            #expect((empty["items"] as? [Any])?.isEmpty == true, "another tenant sees none of it")

            for query in [
                "from=2026-02-30", "from=2026-13-01", "to=1999-01-01&from=2000-01-01", "from=2000-01-01&to=2002-01-01",
            ] {
                try await client.send(.get, "/v1/usage?\(query)", token: tenant.token).expectProblem(
                    400, "invalid_request")
            }
            let admin = try await client.send(
                .get, "/v1/admin/usage?tenant_id=\(tenant.tenantID)", token: operatorToken
            ).jsonObject()
            #expect((admin["items"] as? [[String: Any]])?.reduce(0) { $0 + ($1["total_tokens"] as? Int ?? 0) } == 157)
            try await client.send(.get, "/v1/admin/usage", token: tenant.token).expectProblem(403, "forbidden")
        }
    }

    @Test func anExhaustedBudgetNamesTheLimitThatWasHit() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let problem = APIError.budgetExhausted(
            BudgetExhausted(
                period: .day, periodStart: now.addingTimeInterval(-3_600), resetsAt: now.addingTimeInterval(90),
                tokenLimit: 5_000, used: 4_900, reserved: 50, requested: 1_000),
            now: now)
        #expect(problem.status == 429)
        #expect(problem.code == .budgetExhausted)
        #expect(problem.retryAfter == 90)
        let body = try JSONSerialization.jsonObject(with: problem.body(requestID: "r")) as? [String: Any] ?? [:]
        #expect(body["period"] as? String == "day")
        #expect(body["token_limit"] as? Int == 5_000)
        #expect(body["used"] as? Int == 4_900)
        #expect((body["resets_at"] as? String)?.isEmpty == false)
        #expect((body["detail"] as? String)?.contains("5000") == true)
    }
}
