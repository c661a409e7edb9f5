import Foundation
import Synchronization
import Testing

@testable import Persistence

/// Group commit per tenant: what waits behind a batch goes together, in arrival order, each item with its
/// own answer; tenants never share a batch, and one tenant's stuck batch does not hold another's.
@Suite(.timeLimit(.minutes(1))) struct TenantBatcherTests {
    /// A batch runner that records every batch and, while its tenant is held, holds each batch until the
    /// tenant is let go. A negative item is refused: alone it fails, in a batch it fails the batch.
    final class Recorder: Sendable {
        let batches = Mutex<[(TenantID, [Int])]>([])
        let gates = Mutex<[TenantID: [CheckedContinuation<Void, Never>]]>([:])
        let held: Mutex<Set<TenantID>>

        init(holding held: Set<TenantID> = []) { self.held = Mutex(held) }

        func run(_ tenant: TenantID, _ items: [Int]) async throws -> [Int] {
            batches.withLock { $0.append((tenant, items)) }
            if held.withLock({ $0.contains(tenant) }) {
                await withCheckedContinuation { continuation in
                    gates.withLock { $0[tenant, default: []].append(continuation) }
                }
            }
            if let refused = items.first(where: { $0 < 0 }) { throw Refused(item: refused) }
            return items.map { $0 * 10 }
        }

        func batcher(limit: Int = 64) -> TenantBatcher<Int, Int> {
            TenantBatcher(limit: limit, retriesAlone: { $0 is Refused }) { tenant, item in
                try await self.run(tenant, [item])[0]
            } many: { tenant, items in
                try await self.run(tenant, items)
            }
        }

        func waitForBatches(_ count: Int) async throws {
            for _ in 0..<500 where batches.withLock({ $0.count }) < count {
                try await Task.sleep(for: .milliseconds(2))
            }
        }

        /// Lets the tenant's held batches go; with `holding: false`, later ones are no longer held.
        func open(_ tenant: TenantID, holding: Bool = true) {
            if !holding { _ = held.withLock { $0.remove(tenant) } }
            for gate in gates.withLock({ $0.removeValue(forKey: tenant) ?? [] }) { gate.resume() }
        }
    }

    struct Refused: Error, Equatable { let item: Int }

    let tenantA = TenantID(UUID())
    let tenantB = TenantID(UUID())

    @Test func aLoneItemGoesAtOnceAndWaitersGoTogetherInArrivalOrder() async throws {
        let recorder = Recorder(holding: [tenantA])
        let batcher = recorder.batcher(limit: 3)
        let tenant = tenantA
        async let first = batcher.submit(1, for: tenant)
        try await recorder.waitForBatches(1)
        // While the first batch is held, five items arrive one after another.
        var waiting: [Task<Int, any Error>] = []
        for (index, item) in [2, 3, -4, 5, 6].enumerated() {
            waiting.append(Task { try await batcher.submit(item, for: tenant) })
            for _ in 0..<500 where batcher.waiting(for: tenant) <= index { try await Task.sleep(for: .milliseconds(2)) }
        }
        recorder.open(tenant, holding: false)
        #expect(try await first == 10)
        var answers: [Result<Int, Refused>] = []
        for task in waiting {
            do { answers.append(.success(try await task.value)) } catch let refused as Refused {
                answers.append(.failure(refused))
            }
        }
        // The refused item fails alone: its batch was refused, and each of its items ran again alone.
        #expect(answers == [.success(20), .success(30), .failure(Refused(item: -4)), .success(50), .success(60)])
        // The lone item, then the waiting ones in arrival order, at most `limit` at a time.
        #expect(recorder.batches.withLock { $0.map(\.1) } == [[1], [2, 3, -4], [2], [3], [-4], [5, 6]])
    }

    @Test func tenantsNeverShareABatchAndAStuckTenantHoldsOnlyItself() async throws {
        let recorder = Recorder(holding: [tenantA])
        let batcher = recorder.batcher()
        let (a, b) = (tenantA, tenantB)
        let stuck = Task { try await batcher.submit(1, for: a) }
        try await recorder.waitForBatches(1)
        let behind = Task { try await batcher.submit(2, for: a) }
        // B's items run at once, each in a batch of its own tenant, while A's batch is held.
        async let b1 = batcher.submit(3, for: b)
        async let b2 = batcher.submit(4, for: b)
        #expect(try await b1 == 30)
        #expect(try await b2 == 40)
        for (tenant, items) in recorder.batches.withLock({ $0 }) {
            #expect(items.allSatisfy { (tenant == a) == [1, 2].contains($0) })
        }
        recorder.open(a)
        try await recorder.waitForBatches(recorder.batches.withLock { $0.count } + 1)
        recorder.open(a)
        #expect(try await stuck.value == 10)
        #expect(try await behind.value == 20)
    }

    /// Submits 1 alone (held, and answered 10), then 2 and 3 behind it, and lets the tenant go: the tasks
    /// of the two, which went as one batch.
    static func twoBehindALoneOne(_ batcher: TenantBatcher<Int, Int>, recorder: Recorder, tenant: TenantID)
        async throws -> (Task<Int, any Error>, Task<Int, any Error>)
    {
        let first = Task { try await batcher.submit(1, for: tenant) }
        try await recorder.waitForBatches(1)
        let second = Task { try await batcher.submit(2, for: tenant) }
        let third = Task { try await batcher.submit(3, for: tenant) }
        for _ in 0..<500 where batcher.waiting(for: tenant) < 2 { try await Task.sleep(for: .milliseconds(2)) }
        recorder.open(tenant, holding: false)
        #expect(try await first.value == 10)
        return (second, third)
    }

    @Test func aBatchThatFailsOtherwiseFailsEachOfItsItemsAndTheNextBatchStillRuns() async throws {
        struct Down: Error {}
        let recorder = Recorder(holding: [tenantA])
        let calls = Mutex(0)
        let batcher = TenantBatcher<Int, Int>(retriesAlone: { $0 is Refused }) { tenant, item in
            try await recorder.run(tenant, [item])[0]
        } many: { _, items in
            let call = calls.withLock { count -> Int in
                count += 1
                return count
            }
            if call == 1 { throw Down() }
            return items
        }
        let (second, third) = try await Self.twoBehindALoneOne(batcher, recorder: recorder, tenant: tenantA)
        // The database went away under the batch of 2 and 3: both fail with that, neither runs again alone.
        await #expect(throws: Down.self) { try await second.value }
        await #expect(throws: Down.self) { try await third.value }
        #expect(recorder.batches.withLock { $0.count } == 1)
        #expect(try await batcher.submit(4, for: tenantA) == 40)
    }

    @Test func anAnswerOfTheWrongLengthFailsTheWholeBatch() async throws {
        let recorder = Recorder(holding: [tenantA])
        let batcher = TenantBatcher<Int, Int>(retriesAlone: { _ in false }) { tenant, item in
            try await recorder.run(tenant, [item])[0]
        } many: { _, _ in
            []
        }
        let (second, third) = try await Self.twoBehindALoneOne(batcher, recorder: recorder, tenant: tenantA)
        await #expect(throws: BatchAnswerMismatch.self) { try await second.value }
        await #expect(throws: BatchAnswerMismatch.self) { try await third.value }
    }
}
