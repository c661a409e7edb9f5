import NIOCore
import NIOPosix
import Synchronization

/// A bound on how many of the pool's connections one holder (a tenant) uses at once on this replica,
/// with a line of its own for the rest: a tenant with many requests in flight waits behind itself, not
/// in the pool's one line in front of every other tenant.
///
/// Why: the pool is shared by every tenant of the replica and its line is first come, first served. A
/// tenant running its gateway calls at its rate limit (dozens in flight, each a reservation and a
/// settlement) would otherwise hold every connection and queue in front of another tenant's single read;
/// and since those calls take turns on the tenant's own rows, most of its connections would only wait
/// for row locks inside Postgres, whose waking and waiting slows every tenant's statements.
///
/// A holder at its share waits in its own line (first in, first out) until one of its own connections
/// is handed back, at most `patience`: past it the caller gets `DatabaseUnavailable` (a 503 with
/// `Retry-After`), as it would if the pool itself could not serve it.
public final class ConnectionShares<Holder: Hashable & Sendable>: Sendable {
    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var held: [Holder: Int] = [:]
        var lines: [Holder: [Waiter]] = [:]
        var nextWaiter = 0
    }

    /// Connections one holder may use at once.
    public let perHolder: Int
    /// How long a holder waits in its line before it gets `DatabaseUnavailable`.
    public let patience: Duration
    private let state = Mutex(State())

    public init(perHolder: Int, patience: Duration) {
        self.perHolder = max(1, perHolder)
        self.patience = patience
    }

    /// Runs `body` holding one of `holder`'s share, waiting in `holder`'s line for it when all are in use.
    public func holding<Result>(_ holder: Holder, _ body: () async throws -> Result) async throws -> Result {
        try await take(holder)
        defer { giveBack(holder) }
        return try await body()
    }

    /// Connections `holder` uses now (for tests and metrics).
    public func held(by holder: Holder) -> Int { state.withLock { $0.held[holder, default: 0] } }

    /// Callers waiting in `holder`'s line now.
    public func waiting(for holder: Holder) -> Int { state.withLock { $0.lines[holder]?.count ?? 0 } }

    private func take(_ holder: Holder) async throws {
        // Taken at once, or the id this caller waits under.
        let waiting = state.withLock { state -> Int? in
            let mine = state.held[holder, default: 0]
            guard mine >= perHolder else {
                state.held[holder] = mine + 1
                return nil
            }
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        guard let id = waiting else { return }
        // Armed once the waiter is in its line, so that it cannot fire before there is one to fail.
        let deadline = Mutex<Scheduled<Void>?>(nil)
        defer { deadline.withLock { $0?.cancel() } }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    // A connection handed back between the first look and now.
                    let mine = state.held[holder, default: 0]
                    if mine < perHolder {
                        state.held[holder] = mine + 1
                        return .success(())
                    }
                    state.lines[holder, default: []].append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let now { return continuation.resume(with: now) }
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(patience)) {
                    self.leave(holder, id, with: DatabaseUnavailable())
                }
                deadline.withLock { $0 = timer }
            }
        } onCancel: {
            self.leave(holder, id, with: CancellationError())
        }
    }

    /// Takes waiter `id` out of `holder`'s line, failing it with `error`, if it is still waiting.
    private func leave(_ holder: Holder, _ id: Int, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard var line = state.lines[holder], let index = line.firstIndex(where: { $0.id == id }) else {
                return nil
            }
            let waiter = line.remove(at: index)
            state.lines[holder] = line.isEmpty ? nil : line
            return waiter
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Hands one of `holder`'s connections to the first in its line, or back to the pool when none waits.
    private func giveBack(_ holder: Holder) {
        let next = state.withLock { state -> Waiter? in
            if var line = state.lines[holder], !line.isEmpty {
                let first = line.removeFirst()
                state.lines[holder] = line.isEmpty ? nil : line
                return first
            }
            let left = state.held[holder, default: 0] - 1
            state.held[holder] = left > 0 ? left : nil
            return nil
        }
        next?.continuation.resume()
    }
}
