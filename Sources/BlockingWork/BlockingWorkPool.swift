import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Threads of their own for blocking calls (hiredis, argon2, `getaddrinfo`), so none of them ever runs on
/// Swift's cooperative executor (as many threads as cores) or on an event loop.
///
/// The threads start on first use, and they start on a thread of their own: `NIOThreadPool.start()`
/// blocks its caller until every thread runs, which must not happen on the cooperative executor either.
/// A pool that is never used starts no threads at all. After `shutdown()` every call fails with
/// `Stopped`.
public final class BlockingWorkPool: Sendable {
    /// The pool was shut down; no more work runs.
    public struct Stopped: Error, Sendable {}

    /// Work did not answer within its limit (it may still be running).
    public struct TimedOut: Error, Sendable, CustomStringConvertible {
        public let limit: Duration
        public var description: String { "blocking work did not answer within \(limit)" }
    }

    private enum State {
        case idle
        case starting([CheckedContinuation<Void, any Error>])
        case running
        case stopped
    }

    private let pool: NIOThreadPool
    private let state = Mutex(State.idle)

    /// A pool of `threads` threads (at least one), not started yet.
    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
    }

    /// Runs `work` on one of the pool's threads and answers what it answers. A cancelled caller whose
    /// work has not begun stops waiting (`CancellationError`); work that has begun runs to its end.
    public func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await started()
        return try await pool.runIfActive(work)
    }

    /// Runs `work` as `run` does, but answers `TimedOut` once `limit` has passed, queueing included; the
    /// work itself is left to end on its thread (a blocking call cannot be interrupted).
    public func run<Value: Sendable>(
        within limit: Duration, _ work: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await started()
        let answer = AnswerOnce<Value>()
        return try await withCheckedThrowingContinuation { continuation in
            answer.arm(continuation)
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
                answer.resume(with: .failure(TimedOut(limit: limit)))
            }
            pool.submit { state in
                let result: Result<Value, any Error> =
                    state == .active ? Result { try work() } : .failure(Stopped())
                timer.cancel()
                answer.resume(with: result)
            }
        }
    }

    /// Stops the threads once the work already queued has run; later calls fail with `Stopped`.
    public func shutdown() async {
        let (wasRunning, waiting) = state.withLock { state -> (Bool, [CheckedContinuation<Void, any Error>]) in
            // A start under way sees `stopped` when it ends and stops what it started.
            defer { state = .stopped }
            switch state {
            case .running: return (true, [])
            case .starting(let waiting): return (false, waiting)
            case .idle, .stopped: return (false, [])
            }
        }
        for continuation in waiting { continuation.resume(throwing: Stopped()) }
        if wasRunning { try? await pool.shutdownGracefully() }
    }

    private func started() async throws {
        enum Next {
            case ready
            case stopped
            case wait
            case start
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let next = state.withLock { state -> Next in
                switch state {
                case .running: return .ready
                case .stopped: return .stopped
                case .starting(let waiting):
                    state = .starting(waiting + [continuation])
                    return .wait
                case .idle:
                    state = .starting([continuation])
                    return .start
                }
            }
            switch next {
            case .ready: continuation.resume()
            case .stopped: continuation.resume(throwing: Stopped())
            case .wait: break
            case .start:
                let thread = Thread { self.start() }
                thread.start()
            }
        }
    }

    /// On a thread of its own: starts the pool, then answers everyone waiting for it.
    private func start() {
        pool.start()
        let (waiting, stoppedMeanwhile) = state.withLock { state -> ([CheckedContinuation<Void, any Error>], Bool) in
            switch state {
            case .starting(let waiting):
                state = .running
                return (waiting, false)
            case .stopped, .idle, .running:
                return ([], true)
            }
        }
        if stoppedMeanwhile {
            pool.shutdownGracefully { _ in }
            return
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// Resumes a continuation with the first of several answers (the work's, or the timer's).
private final class AnswerOnce<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, any Error>?, answered: Bool)>((nil, false))

    func arm(_ continuation: CheckedContinuation<Value, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func resume(with result: Result<Value, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard !state.answered else { return nil }
            state.answered = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}
