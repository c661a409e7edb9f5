import Synchronization

/// Lets one task at a time run a section that suspends (a database read and the state it replaces), in
/// the order the tasks asked: a later section starts only once the earlier one has finished, so what it
/// reads is at least as new as what the earlier one applied.
public final class AsyncSerialLock: Sendable {
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// How many sections wait for the one running.
    var waiting: Int { state.withLock { $0.waiting.count } }

    /// Whether a section is running.
    var isHeld: Bool { state.withLock { $0.held } }

    /// Runs `body` once every section asked for before it has finished.
    public func run<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if !state.held {
                    state.held = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the lock to the first waiter, if any (it stays held), else frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
