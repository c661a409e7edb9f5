import Synchronization
import TestKit
import Testing

@testable import BlockingWork

@Suite(.timeLimit(.minutes(1))) struct AsyncSerialLockTests {
    /// Sections that suspend inside never run two at once.
    @Test func sectionsNeverOverlap() async throws {
        let lock = AsyncSerialLock()
        let inside = Shared((now: 0, most: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await lock.run {
                        inside.withLock {
                            $0.now += 1
                            $0.most = max($0.most, $0.now)
                        }
                        try await Pause.for(.milliseconds(2))
                        inside.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inside.withLock { $0.most } == 1)
    }

    /// Sections asked for while one runs start after it, in the order they were asked for; one that
    /// throws lets the next one go.
    @Test func waitersGoInTheOrderTheyAskedAndAfterAFailure() async throws {
        let lock = AsyncSerialLock()
        let order = Shared<[Int]>([])
        let first = Task { try await lock.run { try await Pause.for(.seconds(60)) } }
        try await eventually { lock.isHeld }
        var waiters: [Task<Void, any Error>] = []
        for index in 0..<4 {
            waiters.append(
                Task {
                    try await lock.run {
                        order.withLock { $0.append(index) }
                        if index == 1 { throw Refused() }
                    }
                })
            try await eventually { lock.waiting == index + 1 }
        }
        #expect(order.withLock { $0 }.isEmpty)
        first.cancel()
        _ = await first.result
        for waiter in waiters { _ = await waiter.result }
        #expect(order.withLock { $0 } == [0, 1, 2, 3])
        #expect(lock.waiting == 0 && !lock.isHeld)
    }

    private struct Refused: Error {}
}
