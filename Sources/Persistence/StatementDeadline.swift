import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// An overall deadline on each statement, so that no caller waits for Postgres for ever.
///
/// Why: postgres-nio 1.33.2 writes a statement to its connection's channel without a promise
/// (`channel.write(HandlerTask.extendedQuery(...), promise: nil)`). When Postgres has just closed the
/// connection (a restart, a failover, a killed backend) and NIO has already torn the pipeline down, the
/// write never reaches the Postgres handler and the statement's own promise is never completed: the
/// caller would wait for good, holding its request, its worker slot or its test. Past the deadline the
/// caller gets `StatementTimedOut` (answered as 503, like any lost connection), the connection is closed
/// so the pool drops it, and the abandoned wait is left to end (or not) on its own.
public enum StatementDeadline {
    /// The deadline of statements started in this task (`Database` binds its configured one).
    @TaskLocal public static var limit: Duration = .seconds(30)

    /// Runs `operation` (one statement on `connection`, or a pool-level one when nil) within `limit`.
    static func run<Value: Sendable>(
        closing connection: PostgresConnection?,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let limit = Self.limit
        // A statement written to a connection that has closed is never answered: fail it now.
        if let connection, connection.isClosed { throw DatabaseUnavailable() }
        do {
            return try await Abandon.within(
                limit,
                onAbandon: {
                    let _: EventLoopFuture<Void>? = connection?.close()
                }, operation)
        } catch is Abandon.Abandoned {
            throw StatementTimedOut(limit: limit)
        }
    }
}

/// A statement did not answer within its deadline; its connection was closed.
public struct StatementTimedOut: Error, Sendable, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "a statement did not answer within \(limit)" }
}

/// Waits for work that may never end without being held by it: the work runs in a task of its own, and
/// the caller stops waiting when it is cancelled or when a check says to give up. postgres-nio awaits
/// that ignore cancellation (a statement whose write was dropped, a `LISTEN` on a connection that closed)
/// must not hold a request, a service's shutdown or a test for ever.
public enum Abandon {
    /// The check said to give up; the work was cancelled and left behind.
    public struct Abandoned: Error, Sendable {}

    /// Runs `operation` in a task of its own and returns what it returns. Every `interval` (the first
    /// time after one interval) `abandonWhen` is asked; when it answers true, the task is cancelled,
    /// `onAbandon` runs and `Abandoned` is thrown. A cancelled caller stops waiting at once
    /// (`CancellationError`), cancelling the task too.
    public static func run<Value: Sendable>(
        checkingEvery interval: Duration, abandonWhen: @escaping @Sendable () -> Bool,
        on eventLoop: (any EventLoop)? = nil, onAbandon: @escaping @Sendable () -> Void = {},
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await waiting(operation) { gate in
            let step = TimeAmount(interval)
            let checks = (eventLoop ?? MultiThreadedEventLoopGroup.singleton.any()).scheduleRepeatedTask(
                initialDelay: step, delay: step
            ) { task in
                guard abandonWhen() else { return }
                task.cancel()
                guard gate.resume(with: .failure(Abandoned())) else { return }
                onAbandon()
            }
            return { checks.cancel() }
        }
    }

    /// Runs `operation` in a task of its own and answers the first of: its result, the caller's
    /// cancellation, or what `watch` resumes the gate with. `watch` answers what stops it watching, run
    /// (with the task's cancellation) after that first answer.
    fileprivate static func waiting<Value: Sendable>(
        _ operation: @escaping @Sendable () async throws -> Value,
        watch: (ResumeOnce<Value>) -> @Sendable () -> Void
    ) async throws -> Value {
        let gate = ResumeOnce<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                gate.arm(continuation)
                let work = Task {
                    do {
                        gate.resume(with: .success(try await operation()))
                    } catch {
                        gate.resume(with: .failure(error))
                    }
                }
                let stopWatching = watch(gate)
                gate.whenResumed {
                    stopWatching()
                    work.cancel()
                }
            }
        } onCancel: {
            gate.resume(with: .failure(CancellationError()))
        }
    }
}

extension Abandon {
    /// Runs `operation` as `run` does and gives it up (`Abandoned`, then `onAbandon`) after `limit`, the
    /// deadline kept by the process's `DeadlineWatch` (at most one sweep late), not a timer of its own.
    public static func within<Value: Sendable>(
        _ limit: Duration, onAbandon: @escaping @Sendable () -> Void = {},
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await within(limit, watchedBy: .shared, onAbandon: onAbandon, operation)
    }

    /// `within`, its deadline kept by `deadlines` (tests give their own, which no other suite shares).
    static func within<Value: Sendable>(
        _ limit: Duration, watchedBy deadlines: DeadlineWatch, onAbandon: @escaping @Sendable () -> Void = {},
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let deadline = NIODeadline.now() + TimeAmount(limit)
        return try await waiting(operation) { gate in
            let watch = deadlines.watch(until: deadline) {
                guard gate.resume(with: .failure(Abandoned())) else { return }
                onAbandon()
            }
            return { deadlines.unwatch(watch) }
        }
    }
}

/// Resumes a continuation once, whoever comes first (the work, a check or a cancellation), and runs a
/// clean-up at that first resumption, before the caller continues.
private final class ResumeOnce<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var early: Result<Value, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<Value, any Error>) {
        let early = state.withLock { state -> Result<Value, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Runs `cleanup` after the first resumption (at once if that has happened).
    func whenResumed(_ cleanup: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if now { cleanup() }
    }

    /// True for the first result; later ones are dropped.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        let (continuation, cleanup, first) = state.withLock {
            state -> (CheckedContinuation<Value, any Error>?, (@Sendable () -> Void)?, Bool) in
            guard !state.done else { return (nil, nil, false) }
            state.done = true
            if state.continuation == nil { state.early = result }
            defer {
                state.continuation = nil
                state.cleanup = nil
            }
            return (state.continuation, state.cleanup, true)
        }
        // The clean-up first: once the caller has its answer, nothing of the wait is left (a watched deadline
        // cleaned up after the resumption was still there, briefly, when the caller looked).
        cleanup?()
        continuation?.resume(with: result)
        return first
    }
}

extension PostgresConnection {
    /// `query(_:logger:)` within the task's statement deadline (`StatementDeadline`): every statement the
    /// application sends goes through here.
    @discardableResult
    public func statement(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await StatementDeadline.run(closing: self) { try await self.query(query, logger: logger) }
    }
}
