import Billing
import BlockingWork
import Foundation
import Persistence
import PostgresNIO
import TestKit
import Testing

/// Reservations never let concurrent calls pass the limit, the ledger is what the counters say, and a
/// crashed holder's reservations come back.
@Suite(.timeLimit(.minutes(3))) struct TokenBudgetTests {
    static let call: Int64 = 1_000

    /// Reserves `Self.call` for each of `calls` at once, spread over `budgets`; answers how many were
    /// granted and charges each granted one exactly `Self.call`.
    static func race(_ calls: Int, tenant: TenantID, over budgets: [TokenBudget]) async throws -> (Int, Int) {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<calls {
                let budget = budgets[index % budgets.count]
                group.addTask {
                    do {
                        let reservation = try await budget.reserve(Self.call, for: tenant)
                        try await Pause.for(.milliseconds(Int.random(in: 0...20)))
                        try await budget.record(
                            BillingDatabase.usage(tokens: Self.call), against: reservation, release: true, for: tenant)
                        return true
                    } catch is BudgetExhausted {
                        return false
                    }
                }
            }
            var granted = 0
            var refused = 0
            for try await outcome in group { if outcome { granted += 1 } else { refused += 1 } }
            return (granted, refused)
        }
    }

    static func ledgerTotal(_ tenant: TenantID, in database: Database) async throws -> Int64 {
        try await database.withTenant(tenant) { transaction in
            var total: Int64 = 0
            for try await value in try await transaction.query(
                "SELECT COALESCE(sum(total_tokens), 0)::bigint FROM usage_records WHERE NOT cached"
            ).decode(Int64.self) { total = value }
            return total
        }
    }

    @Test func fiftyCallsAgainstABudgetForTenLetTenThrough() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(in: database, tokenLimit: 10 * Self.call)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            let (granted, refused) = try await Self.race(50, tenant: tenant, over: [budget])
            #expect(granted == 10)
            #expect(refused == 40)
            #expect(try await Self.ledgerTotal(tenant, in: database) == 10 * Self.call)
            #expect(try await database.withTenant(tenant) { try await UsageLedger().discrepancies(in: $0) }.isEmpty)
        }
    }

    @Test func twoInstancesOnOneDatabaseShareTheBudget() async throws {
        try await TestDatabase.with { first in
            try await TestDatabase.with { second in
                let tenant = try await BillingDatabase.tenant(in: first, tokenLimit: 10 * Self.call)
                let budgets = [
                    TokenBudget(database: first, reservationLifetime: .seconds(60)),
                    TokenBudget(database: second, reservationLifetime: .seconds(60)),
                ]
                let (granted, _) = try await Self.race(50, tenant: tenant, over: budgets)
                #expect(granted == 10)
                #expect(try await Self.ledgerTotal(tenant, in: first) == 10 * Self.call)
            }
        }
    }

    @Test func aDeadHoldersReservationsAreSweptAfterTheirLifetime() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(in: database, tokenLimit: 3 * Self.call)
            // A lifetime long enough that a loaded machine gets through the checks before it passes.
            let lifetime = Duration.seconds(30)
            let dying = TokenBudget(database: database, reservationLifetime: lifetime)
            let reservedAt = ContinuousClock.now
            for _ in 0..<3 { _ = try await dying.reserve(Self.call, for: tenant) }
            // Each reservation's lifetime starts when Postgres made it; on a loaded machine the last one can
            // come well after `reservedAt`, so the wait below counts from after it.
            let lastReservedAt = ContinuousClock.now
            // The holder "dies" here: nothing records or releases these three.
            await #expect(throws: BudgetExhausted.self) { try await dying.reserve(Self.call, for: tenant) }
            _ = try await dying.sweepExpired()
            await #expect(throws: BudgetExhausted.self, "nothing is swept before its lifetime passes") {
                try await dying.reserve(Self.call, for: tenant)
            }
            #expect(ContinuousClock.now - reservedAt < lifetime, "the checks above ran within the lifetime")
            try await Pause.until(lastReservedAt + lifetime + .seconds(1))
            _ = try await dying.sweepExpired()
            let reservation = try await dying.reserve(Self.call, for: tenant)
            #expect(reservation.tokens == Self.call)
            #expect(try await database.withTenant(tenant) { try await UsageLedger().discrepancies(in: $0) }.isEmpty)
        }
    }

    @Test func aDayEndsAtMidnightInTheTenantsTimeZone() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(
                in: database, timezone: "Asia/Kolkata", period: .day, tokenLimit: 2 * Self.call)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            // 23:59:59 in Kolkata (UTC+05:30) on 2026-03-09 is 18:29:59 UTC.
            let beforeMidnight = try #require(ISO8601DateFormatter().date(from: "2026-03-09T18:29:59Z"))
            let afterMidnight = beforeMidnight.addingTimeInterval(1)
            let first = try await budget.reserve(2 * Self.call, for: tenant, at: beforeMidnight)
            #expect(first.periodStart == ISO8601DateFormatter().date(from: "2026-03-08T18:30:00Z"))
            #expect(first.resetsAt == ISO8601DateFormatter().date(from: "2026-03-09T18:30:00Z"))
            try await budget.record(
                BillingDatabase.usage(tokens: 2 * Self.call), against: first, release: true, for: tenant)
            let refused = await #expect(throws: BudgetExhausted.self) {
                try await budget.reserve(Self.call, for: tenant, at: beforeMidnight)
            }
            #expect(refused?.resetsAt == afterMidnight)
            #expect(refused?.used == 2 * Self.call)
            let next = try await budget.reserve(2 * Self.call, for: tenant, at: afterMidnight)
            #expect(next.periodStart == afterMidnight)
            #expect(next.usedBefore == 0)
        }
    }

    @Test func aMonthStartsOnTheFirstInTheTenantsTimeZoneAcrossDaylightSaving() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(
                in: database, timezone: "America/New_York", period: .month, tokenLimit: 10 * Self.call)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            // 2026-11-01 00:00 in New York is 04:00 UTC (still daylight time); December starts at 05:00 UTC.
            let inNovember = try #require(ISO8601DateFormatter().date(from: "2026-11-15T12:00:00Z"))
            let reservation = try await budget.reserve(Self.call, for: tenant, at: inNovember)
            #expect(reservation.periodStart == ISO8601DateFormatter().date(from: "2026-11-01T04:00:00Z"))
            #expect(reservation.resetsAt == ISO8601DateFormatter().date(from: "2026-12-01T05:00:00Z"))
            try await budget.release(reservation)
        }
    }

    @Test func loweringAndRaisingTheLimitInFlight() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(in: database, tokenLimit: 10 * Self.call)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            var held: [Reservation] = []
            for _ in 0..<5 { held.append(try await budget.reserve(Self.call, for: tenant)) }
            let repository = BudgetRepository()
            func setLimit(_ limit: Int64) async throws {
                _ = try await database.withTenant(tenant) {
                    try await repository.update(
                        period: .month, tokenLimit: limit, softLimitPercent: 80, onExhausted: .block, in: $0)
                }
            }
            try await setLimit(3 * Self.call)
            await #expect(throws: BudgetExhausted.self) { try await budget.reserve(Self.call, for: tenant) }
            // Calls already in flight settle normally.
            for reservation in held {
                try await budget.record(
                    BillingDatabase.usage(tokens: Self.call), against: reservation, release: true, for: tenant)
            }
            await #expect(throws: BudgetExhausted.self) { try await budget.reserve(1, for: tenant) }
            try await setLimit(20 * Self.call)
            let (granted, _) = try await Self.race(30, tenant: tenant, over: [budget])
            #expect(granted == 15)
            #expect(try await Self.ledgerTotal(tenant, in: database) == 20 * Self.call)
        }
    }

    @Test func degradeTakesWhatRemainsAndNeverMore() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(
                in: database, tokenLimit: 2_500, onExhausted: .degrade)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            let full = try await budget.reserve(2_000, minimum: 100, for: tenant)
            #expect(!full.isDegraded)
            let degraded = try await budget.reserve(2_000, minimum: 100, for: tenant)
            #expect(degraded.tokens == 500)
            #expect(degraded.isDegraded)
            await #expect(throws: BudgetExhausted.self) { try await budget.reserve(2_000, minimum: 100, for: tenant) }
            try await budget.release(full)
            try await budget.release(degraded)
        }
    }

    @Test func crossingTheSoftLimitAndExhaustingRecordOneEventEachPerPeriod() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(in: database, tokenLimit: 4 * Self.call, softLimitPercent: 50)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            _ = try await Self.race(10, tenant: tenant, over: [budget])
            await #expect(throws: BudgetExhausted.self) { try await budget.reserve(Self.call, for: tenant) }
            let events = try await database.withTenant(tenant) { transaction in
                var kinds: [String] = []
                for try await kind in try await transaction.query("SELECT kind FROM budget_events ORDER BY kind")
                    .decode(String.self)
                {
                    kinds.append(kind)
                }
                return kinds
            }
            #expect(events == ["exhausted", "threshold_crossed"])
        }
    }

    @Test func cacheHitsAreRecordedButCostNoBudget() async throws {
        try await TestDatabase.with { database in
            let tenant = try await BillingDatabase.tenant(in: database, tokenLimit: 1_000)
            let budget = TokenBudget(database: database, reservationLifetime: .seconds(60))
            for _ in 0..<3 {
                try await budget.record(
                    BillingDatabase.usage(tokens: 900, cached: true), against: nil, release: false, for: tenant)
            }
            let reservation = try await budget.reserve(1_000, for: tenant)
            #expect(reservation.usedBefore == 0)
            try await budget.release(reservation)
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            let totals = try await database.withTenant(tenant) {
                try await UsageLedger().totals(from: "2000-01-01", to: "2999-12-31", in: $0)
            }
            #expect(totals.count == 1)
            #expect(totals.first?.cachedCalls == 3)
            #expect(totals.first?.costMicros == 0)
            #expect(totals.first?.day == String(today))
        }
    }
}
