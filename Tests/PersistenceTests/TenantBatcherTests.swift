import Foundation
import Synchronization
import Testing

@testable import Persistence

/// Group commit per tenant: what waits behind a batch goes together, in arrival order, each item with its
/// own answer; tenants never share a batch, and one tenant's stuck batch does not hold another's.
@Suite(.timeLimit(.minutes(1))) struct TenantBatcherTests {
    /// A batch runner that records every batch and holds each one until its gate opens.
    final class Recorder: Sendable {
        let batches = Mutex<[(TenantID, [Int])]>([])
        let gates = Mutex<[TenantID: [CheckedContinuation<Void, Never>]]>([:])
        let held: Set<TenantID>

        init(holding held: Set<TenantID> = []) { self.held = held }

        func run(_ tenant: TenantID, _ items: [Int]) async throws -> [Result<Int, any Error>] {
            batches.withLock { $0.append((tenant, items)) }
            if held.contains(tenant) {
                await withCheckedContinuation { continuation in
                    gates.withLock { $0[tenant, default: []].append(continuation) }
                }
            }
            return items.map { $0 < 0 ? .failure(Refused(item: $0)) : .success($0 * 10) }
        }

        func waitForBatches(_ count: Int) async throws {
            for _ in 0..<500 where batches.withLock({ $0.count }) < count {
                try await Task.sleep(for: .milliseconds(2))
            }
        }

        func open(_ tenant: TenantID) {
            for gate in gates.withLock({ $0.removeValue(forKey: tenant) ?? [] }) { gate.resume() }
        }
    }

    struct Refused: Error, Equatable { let item: Int }

    let tenantA = TenantID(UUID())
    let tenantB = TenantID(UUID())

    @Test func aLoneItemGoesAtOnceAndWaitersGoTogetherInArrivalOrder() async throws {
        let recorder = Recorder(holding: [tenantA])
        let batcher = TenantBatcher<Int, Int>(limit: 3) { try await recorder.run($0, $1) }
        let tenant = tenantA
        async let first = batcher.submit(1, for: tenant)
        try await recorder.waitForBatches(1)
        // While the first batch is held, five items arrive one after another.
        var waiting: [Task<Int, any Error>] = []
        for (index, item) in [2, 3, -4, 5, 6].enumerated() {
            waiting.append(Task { try await batcher.submit(item, for: tenant) })
            for _ in 0..<500 where batcher.waiting(for: tenant) <= index { try await Task.sleep(for: .milliseconds(2)) }
        }
        for batches in 2...3 {
            recorder.open(tenant)
            try await recorder.waitForBatches(batches)
        }
        recorder.open(tenant)
        #expect(try await first == 10)
        var answers: [Result<Int, Refused>] = []
        for task in waiting {
            do { answers.append(.success(try await task.value)) } catch let refused as Refused {
                answers.append(.failure(refused))
            }
        }
        #expect(answers == [.success(20), .success(30), .failure(Refused(item: -4)), .success(50), .success(60)])
        // One batch of the lone item, then the waiting ones in arrival order, at most `limit` at a time.
        #expect(recorder.batches.withLock { $0.map(\.1) } == [[1], [2, 3, -4], [5, 6]])
    }

    @Test func tenantsNeverShareABatchAndAStuckTenantHoldsOnlyItself() async throws {
        let recorder = Recorder(holding: [tenantA])
        let batcher = TenantBatcher<Int, Int> { try await recorder.run($0, $1) }
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

    @Test func aFailedBatchFailsEachOfItsItemsAndTheNextBatchStillRuns() async throws {
        struct Down: Error {}
        let calls = Mutex(0)
        let batcher = TenantBatcher<Int, Int> { _, items in
            let call = calls.withLock { count -> Int in
                count += 1
                return count
            }
            if call == 1 { throw Down() }
            return items.map { .success($0) }
        }
        await #expect(throws: Down.self) { try await batcher.submit(1, for: tenantA) }
        #expect(try await batcher.submit(2, for: tenantA) == 2)
    }

    @Test func anAnswerOfTheWrongLengthFailsTheWholeBatch() async throws {
        let batcher = TenantBatcher<Int, Int> { _, _ in [] }
        await #expect(throws: BatchAnswerMismatch.self) { try await batcher.submit(1, for: tenantA) }
    }
}
