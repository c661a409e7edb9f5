import Billing
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Spend changes without HTTP: a tenant's own values stay within the operator's caps, an operator's
/// lower cap clamps them, each change is audited, and a tenant that is not there is refused.
@Suite(.timeLimit(.minutes(2))) struct SpendControlTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "test", requestID: "r-spend", clientAddress: nil)

    @Test func aTenantsOwnValuesStayWithinTheOperatorsCaps() async throws {
        try await TestDatabase.with { database in
            let spend = SpendControl(database: database)
            let tenantID = try await BillingDatabase.tenant(in: database, tokenLimit: 1000)
            let set = try await spend.setBudget(
                of: tenantID, period: .day, tokenLimit: 500, softLimitPercent: 50, onExhausted: .block,
                recordedAs: Self.caller)
            #expect(set.budget.tokenLimit == 500 && set.budget.period == .day && set.standing.used == 0)
            await #expect(throws: AboveCap.self) {
                _ = try await spend.setBudget(
                    of: tenantID, period: .day, tokenLimit: 2_000_000_000, softLimitPercent: 50, onExhausted: .block,
                    recordedAs: Self.caller)
            }
            let capped = try await spend.setBudgetCap(
                of: tenantID, maxTokenLimit: 100, period: nil, tokenLimit: nil, softLimitPercent: nil, onExhausted: nil,
                recordedAs: Self.caller)
            #expect(capped.budget.maxTokenLimit == 100 && capped.budget.tokenLimit <= 100)
            let limits = try await spend.setLimitCaps(
                of: tenantID, maxRequestsPerMinute: 10, maxBurst: 5, requestsPerMinute: nil, burst: nil,
                recordedAs: Self.caller)
            #expect(limits.requestsPerMinute <= 10 && limits.burst <= 5)
            #expect(try await spend.limits(of: tenantID) == limits)
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["limits.admin_update", "budget.admin_update", "budget.update"])
        }
    }

    @Test func aTenantThatIsNotThereIsRefused() async throws {
        try await TestDatabase.with { database in
            let spend = SpendControl(database: database)
            await #expect(throws: Refusal.notFound("tenant")) { _ = try await spend.budget(of: TenantID.generate()) }
            await #expect(throws: Refusal.notFound("tenant")) {
                _ = try await spend.setLimits(
                    of: TenantID.generate(), requestsPerMinute: 5, burst: 5, recordedAs: Self.caller)
            }
        }
    }
}
