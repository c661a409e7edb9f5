import Synchronization
import Testing

@testable import Tenancy

@Suite(.timeLimit(.minutes(3))) struct ConnectionSharesTests {
    /// A holder at its share waits in its own line; another holder goes at once.
    @Test func aHolderAtItsShareWaitsBehindItselfOnly() async throws {
        let shares = ConnectionShares<String>(perHolder: 2, patience: .seconds(60))
        let release = Latch()
        let holders = (0..<4).map { _ in Task { try await shares.holding("a") { await release.wait() } } }
        try await eventually { shares.held(by: "a") == 2 && shares.waiting(for: "a") == 2 }
        let other = try await Abandon.within(.seconds(5)) { try await shares.holding("b") { 42 } }
        #expect(other == 42)
        #expect(shares.held(by: "b") == 0)
        release.open()
        for holder in holders { try await holder.value }
        #expect(shares.held(by: "a") == 0 && shares.waiting(for: "a") == 0)
    }

    /// A connection handed back goes to the first in its holder's line.
    @Test func theLineIsFirstInFirstOut() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .seconds(60))
        let release = Latch()
        let order = Entries()
        var tasks: [Task<Void, any Error>] = []
        for index in 0..<4 {
            tasks.append(
                Task {
                    try await shares.holding("a") {
                        order.append(index)
                        await release.wait()
                    }
                })
            try await eventually { shares.held(by: "a") == 1 && shares.waiting(for: "a") == index }
        }
        release.open()
        for task in tasks { try await task.value }
        #expect(order.all == [0, 1, 2, 3])
    }

    @Test func aWaiterPastItsPatienceIsToldTheDatabaseIsUnavailable() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .milliseconds(200))
        let release = Latch()
        let holder = Task { try await shares.holding("a") { await release.wait() } }
        try await eventually { shares.held(by: "a") == 1 }
        let started = ContinuousClock.now
        await #expect(throws: DatabaseUnavailable.self) { try await shares.holding("a") {} }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(shares.waiting(for: "a") == 0)
        release.open()
        try await holder.value
        #expect(shares.held(by: "a") == 0)
    }

    @Test func aCancelledWaiterLeavesItsLine() async throws {
        let shares = ConnectionShares<String>(perHolder: 1, patience: .seconds(60))
        let release = Latch()
        let holder = Task { try await shares.holding("a") { await release.wait() } }
        try await eventually { shares.held(by: "a") == 1 }
        let waiter = Task { try await shares.holding("a") {} }
        try await eventually { shares.waiting(for: "a") == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(shares.waiting(for: "a") == 0)
        release.open()
        try await holder.value
        // Nothing was handed to the waiter that left: the share is whole again.
        #expect(shares.held(by: "a") == 0)
        try await shares.holding("a") {}
    }

    /// Waits until `condition` holds, checking every 10 ms for at most 5 s.
    private func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            #expect(ContinuousClock.now < deadline)
            guard ContinuousClock.now < deadline else { return }
            try await Pause.for(.milliseconds(10))
        }
    }
}

/// Holds its waiters until it is opened (ControlPlaneTests has the same as `TestLatch`; test targets
/// cannot share a file).
final class Latch: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A list appended to from several tasks.
private final class Entries: Sendable {
    private let entries = Mutex<[Int]>([])
    func append(_ entry: Int) { entries.withLock { $0.append(entry) } }
    var all: [Int] { entries.withLock { $0 } }
}
