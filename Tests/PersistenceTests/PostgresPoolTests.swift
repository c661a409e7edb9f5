import Foundation
import Logging
import PostgresNIO
import TestKit
import Testing

@testable import BlockingWork
@testable import Persistence

/// The application's own pool against the Postgres `scripts/test` starts: connections are reused, never
/// more than its size are open, callers past it wait in line (within their limit), a connection that
/// failed is dropped without failing the next caller, and an unreachable Postgres answers at once.
@Suite(.timeLimit(.minutes(3))) struct PostgresPoolTests {
    /// One caller after another uses one connection; eight at once open at most the pool's four.
    @Test func connectionsAreReusedAndNeverMoreThanTheSize() async throws {
        try await Self.withPool(size: 4) { pool in
            for _ in 0..<20 { #expect(try await Self.selectOne(pool) == 1) }
            #expect(pool.counts == (open: 1, parked: 1))
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await pool.withConnection(waitingAtMost: .seconds(10)) { connection in
                            try await connection.query("SELECT pg_sleep(0.1)", logger: TestDatabase.logger).collect()
                            return 1
                        }
                    }
                }
                var served = 0
                for try await one in group { served += one }
                #expect(served == 8)
            }
            #expect(pool.counts.open <= 4)
            #expect(pool.counts.open == pool.counts.parked)
        }
    }

    /// With every connection in use, a caller waits until one is handed back, first in first out; one
    /// past its limit gets `DatabaseUnavailable`.
    @Test func callersPastTheSizeWaitInLineWithinTheirLimit() async throws {
        try await Self.withPool(size: 1) { pool in
            let release = Shared(false)
            let holder = Task {
                try await pool.withConnection(waitingAtMost: .seconds(10)) { _ in
                    _ = try await waitUntil(timeout: .seconds(30)) { release.withLock { $0 } }
                }
            }
            try await eventually { pool.counts == (open: 1, parked: 0) }
            let order = Shared<[Int]>([])
            var waiters: [Task<Void, any Error>] = []
            for index in 0..<3 {
                waiters.append(
                    Task {
                        try await pool.withConnection(waitingAtMost: .seconds(20)) { _ in
                            order.withLock { $0.append(index) }
                        }
                    })
                try await Pause.for(.milliseconds(50))
            }
            let started = ContinuousClock.now
            await #expect(throws: DatabaseUnavailable.self) {
                try await pool.withConnection(waitingAtMost: .milliseconds(200)) { _ in }
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            release.withLock { $0 = true }
            try await holder.value
            for waiter in waiters { try await waiter.value }
            #expect(order.withLock { $0 } == [0, 1, 2])
            #expect(pool.counts == (open: 1, parked: 1))
        }
    }

    /// A connection whose backend was terminated while parked is dropped when it would be handed out, and
    /// one that failed under its caller is dropped when handed back: the next caller is served.
    @Test func aFailedConnectionIsDroppedAndTheNextCallerServed() async throws {
        try await Self.withPool(size: 2) { pool in
            let first = try await Self.backendPID(pool)
            try await Self.terminate(first)
            // Postgres's notice that it ends the connection arrives at once; the lease after it must not fail.
            try await Pause.for(.milliseconds(300))
            let second = try await Self.backendPID(pool)
            #expect(second != first)

            // Terminated under its caller: the caller gets the failure at once (a statement written to a
            // closed connection is failed, not left to its deadline), and the connection is not reused.
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) {
                try await pool.withConnection(waitingAtMost: .seconds(10)) { connection in
                    let pid = try await connection.query("SELECT pg_backend_pid()", logger: TestDatabase.logger)
                        .collect().first!.decode(Int32.self)
                    try await Self.terminate(pid)
                    try await Pause.for(.milliseconds(300))
                    try await StatementDeadline.$limit.withValue(.seconds(5)) {
                        try await connection.statement("SELECT 1", logger: TestDatabase.logger).collect()
                    }
                }
            }
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(try await Self.selectOne(pool) == 1)
            #expect(pool.counts.open <= 2)
        }
    }

    /// A Postgres that cannot be reached answers at once, and callers between dials do not wait at all.
    @Test func anUnreachablePostgresAnswersAtOnce() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CP_DATABASE_URL"])
        var endpoint = try DatabaseURL.endpoint(url)
        endpoint = DatabaseURL.Endpoint(
            host: "127.0.0.1", port: 1, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, requireTLS: false)
        let pool = try PostgresPool(
            endpoint: endpoint, settings: .init(size: 4, reconnectInterval: .seconds(60)), logger: TestDatabase.logger)
        for _ in 0..<5 {
            let started = ContinuousClock.now
            await #expect(throws: DatabaseUnavailable.self) {
                try await pool.withConnection(waitingAtMost: .seconds(30)) { _ in }
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        #expect(pool.isAway)
        #expect(pool.counts.open == 0)
    }

    /// Connections parked past the idle timeout are closed down to the warm ones; the warm ones are
    /// opened when the pool starts.
    @Test func idleConnectionsBeyondTheWarmOnesAreClosed() async throws {
        try await Self.withPool(size: 4, warm: 1, idleTimeout: .milliseconds(200)) { pool in
            try await eventually { pool.counts.open == 1 }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        _ = try await pool.withConnection(waitingAtMost: .seconds(10)) { connection in
                            try await connection.query("SELECT pg_sleep(0.1)", logger: TestDatabase.logger).collect()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(pool.counts.open > 1)
            let closed = try await waitUntil(timeout: .seconds(10)) { pool.counts == (open: 1, parked: 1) }
            #expect(closed != nil, "open and parked: \(pool.counts)")
        }
    }

    // MARK: Helpers

    static func withPool(
        size: Int, warm: Int = 0, idleTimeout: Duration = .seconds(300),
        _ body: @Sendable (PostgresPool) async throws -> Void
    ) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CP_DATABASE_URL"])
        let pool = try PostgresPool(
            endpoint: try DatabaseURL.endpoint(url),
            settings: .init(size: size, warmConnections: warm, idleTimeout: idleTimeout),
            logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            try await body(pool)
        }
    }

    static func selectOne(_ pool: PostgresPool) async throws -> Int {
        try await pool.withConnection(waitingAtMost: .seconds(10)) { connection in
            try await connection.query("SELECT 1", logger: TestDatabase.logger).collect().first!.decode(Int.self)
        }
    }

    static func backendPID(_ pool: PostgresPool) async throws -> Int32 {
        try await pool.withConnection(waitingAtMost: .seconds(10)) { connection in
            try await connection.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).collect().first!
                .decode(Int32.self)
        }
    }

    /// Ends backend `pid` (the pool's role may end its own backends) from a connection outside the pool.
    static func terminate(_ pid: Int32) async throws {
        try await TestDatabase.withClient { client in
            try await client.query("SELECT pg_terminate_backend(\(pid))").collect()
        }
    }
}
