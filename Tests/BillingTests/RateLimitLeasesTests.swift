import Billing
import Foundation
import Persistence
import TestKit
import Testing

/// Leases of a tenant's requests taken ahead of time: they grow while a tenant is hot and shrink when it
/// is not, stay within a sixteenth of its burst (a small burst stays exact), lapse unused after their validity, are held for a bounded
/// number of tenants, and, taken from the shared bucket by several replicas at once, never let through
/// more than the bucket allows.
@Suite(.timeLimit(.minutes(2))) struct RateLimitLeasesTests {
    static let bucket = RateLimitDecision(
        allowed: true, requestsPerMinute: 6000, burst: 100, remaining: 50, resetSeconds: 1, retryAfterSeconds: 0)

    @Test func aLeaseGrowsWhileItsTenantIsHotAndShrinksWhenNot() {
        let leases = RateLimitLeases(validity: .seconds(1), largest: 64)
        let tenant = TenantID.generate()
        var now = ContinuousClock.now
        #expect(leases.wanted(tenant, now: now) == 1, "a tenant not seen takes one request at a time")
        var sizes: [Int] = []
        for _ in 0..<6 {
            let wanted = leases.wanted(tenant, now: now)
            sizes.append(wanted)
            let first = leases.granted(wanted, wanted: wanted, to: tenant, decision: Self.bucket, now: now)
            #expect(first.allowed && first.remaining == min(100, 50 + wanted - 1))
            for _ in 1..<wanted { #expect(leases.take(tenant, now: now) != nil) }
            #expect(leases.take(tenant, now: now) == nil, "a lease hands out what it was granted, no more")
            now += .milliseconds(10)
        }
        // Doubling while used up within a tenth of the validity, up to a sixteenth of the burst (6).
        #expect(sizes == [1, 2, 4, 6, 6, 6])
        now += .seconds(2)
        #expect(leases.wanted(tenant, now: now) == 3, "a tenant that cooled down asks for half")
    }

    @Test func aSmallBurstIsNeverLeasedAhead() {
        let leases = RateLimitLeases()
        let tenant = TenantID.generate()
        let small = RateLimitDecision(
            allowed: true, requestsPerMinute: 60, burst: 31, remaining: 30, resetSeconds: 1, retryAfterSeconds: 0)
        let now = ContinuousClock.now
        for step in 0..<5 {
            let wanted = leases.wanted(tenant, now: now + .milliseconds(step))
            #expect(wanted == 1)
            _ = leases.granted(wanted, wanted: wanted, to: tenant, decision: small, now: now + .milliseconds(step))
            #expect(leases.take(tenant, now: now + .milliseconds(step)) == nil)
        }
    }

    @Test func aLeaseLapsesAfterItsValidityAndTheirNumberIsBounded() {
        let leases = RateLimitLeases(validity: .milliseconds(100), largest: 64, capacity: 3)
        let tenants = (0..<5).map { _ in TenantID.generate() }
        let now = ContinuousClock.now
        _ = leases.granted(10, wanted: 10, to: tenants[0], decision: Self.bucket, now: now)
        #expect(leases.take(tenants[0], now: now + .milliseconds(50))?.remaining == 50 + 8)
        #expect(leases.take(tenants[0], now: now + .milliseconds(100)) == nil, "lapsed")
        for tenant in tenants[1...] {
            _ = leases.granted(5, wanted: 5, to: tenant, decision: Self.bucket, now: now + .milliseconds(200))
        }
        // The third lease found the map full of live ones and forgot them all; the ones after it remain.
        #expect(leases.take(tenants[4], now: now + .milliseconds(200)) != nil)
        #expect(leases.take(tenants[1], now: now + .milliseconds(200)) == nil)
    }

    @Test func replicasLeasingAtOnceNeverLetThroughMoreThanTheBucket() async throws {
        try await TestDatabase.with { database in
            // 600 a minute (10 a second) with a burst of 100.
            let tenantID = try await BillingDatabase.tenant(in: database, tokenLimit: 1_000_000)
            let leases = [RateLimitLeases(), RateLimitLeases()]
            let replicas = leases.map { RateLimiter(database: database, leases: $0) }
            let started = ContinuousClock.now
            // Each worker counts what it was let through, and the largest lease its replica asked for
            // next meanwhile (read as it went: once the burst is spent the leases cool down again).
            let (allowed, largestWanted) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var allowed = 0
                        var largest = 1
                        for _ in 0..<40 {
                            if try await replicas[worker % 2].take(tenantID)?.allowed == true { allowed += 1 }
                            largest = max(largest, leases[worker % 2].wanted(tenantID))
                        }
                        return (allowed, largest)
                    }
                }
                return try await group.reduce((0, 1)) { ($0.0 + $1.0, max($0.1, $1.1)) }
            }
            let seconds = (ContinuousClock.now - started).seconds
            #expect(allowed >= 100 - 2 * 6, "the burst, less what the replicas' last leases left unused")
            #expect(Double(allowed) <= 100 + 10 * (seconds + 1), "allowed \(allowed) in \(seconds) s")
            #expect(largestWanted > 1, "a tenant this hot is served from leases")
        }
    }
}
