import Synchronization
import TestKit
import Testing

@testable import BlockingWork
@testable import Persistence

/// Holders here hold until their task is cancelled (`holdUntilCancelled`).
@Suite(.timeLimit(.minutes(3))) struct ConnectionSharesTests {
    /// A holder at its share waits in its own line; another holder goes at once.
    @Test func aHolderAtItsShareWaitsBehindItselfOnly() async throws {
        let shares = ConnectionShares<String>(perHolder: 2, patience: .seconds(60))
        let holders = (0..<4).map { _ in Task { try await shares.holding("a") { await Self.holdUntilCancelled() } } }
        try await eventually { shares.held(by: "a") == 2 && shares.waiting(for: "a") == 2 }
        let other = try await Abandon.within(.seconds(5)) { try await shares.holding("b") { 42 } }
        #expect(other == 42)
        #expect(shares.held(by: "b") == 0)
        for holder in holders { holder.cancel() }
        for holder in holders { _ = await holder.result }
        #expect(shares.held(by: "a") == 0 && shares.waiting(for: "a") == 0)
    }

    /// A connection handed back goes to the first in its holder's line.
    @Test func theLineIsFirstInFirstOut() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .seconds(60))
        let order = Shared<[Int]>([])
        var holders: [Task<Void, any Error>] = []
        for index in 0..<4 {
            holders.append(
                Task {
                    try await shares.holding("a") {
                        order.withLock { $0.append(index) }
                        await Self.holdUntilCancelled()
                    }
                })
            try await eventually { shares.held(by: "a") == 1 && shares.waiting(for: "a") == index }
        }
        // Each holder let go in turn: the next in line takes its place.
        for (index, holder) in holders.enumerated() {
            try await eventually { order.withLock { $0 }.count == index + 1 }
            holder.cancel()
            try await holder.value
        }
        #expect(order.withLock { $0 } == [0, 1, 2, 3])
        #expect(shares.held(by: "a") == 0)
    }

    @Test func aWaiterPastItsPatienceIsToldTheDatabaseIsUnavailable() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .milliseconds(200))
        let holder = Task { try await shares.holding("a") { await Self.holdUntilCancelled() } }
        try await eventually { shares.held(by: "a") == 1 }
        let started = ContinuousClock.now
        await #expect(throws: DatabaseUnavailable.self) { try await shares.holding("a") {} }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(shares.waiting(for: "a") == 0)
        holder.cancel()
        try await holder.value
        #expect(shares.held(by: "a") == 0)
    }

    @Test func aCancelledWaiterLeavesItsLine() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .seconds(60))
        let holder = Task { try await shares.holding("a") { await Self.holdUntilCancelled() } }
        try await eventually { shares.held(by: "a") == 1 }
        let waiter = Task { try await shares.holding("a") {} }
        try await eventually { shares.waiting(for: "a") == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(shares.waiting(for: "a") == 0)
        holder.cancel()
        try await holder.value
        // Nothing was handed to the waiter that left: the share is whole again.
        #expect(shares.held(by: "a") == 0)
        try await shares.holding("a") {}
    }

    /// Returns when the task is cancelled (or after a minute).
    private static func holdUntilCancelled() async { try? await Pause.for(.seconds(60)) }
}
