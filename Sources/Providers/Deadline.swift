/// An operation that did not finish by its deadline (and was cancelled).
public struct DeadlineExceeded: Error, Sendable, Equatable {
    public init() {}
}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` when `deadline` comes first. The
/// operation must end soon after it is cancelled (async-http-client's requests and bodies do): the
/// deadline is only as good as that.
public func withDeadline<Value: Sendable>(
    _ deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        guard let value = first else { throw DeadlineExceeded() }
        return value
    }
}

/// Runs `operation` until it ends or `deadline` comes, whichever is first; at the deadline the operation
/// is cancelled and must then return what it has. Answers its value and whether the deadline cut it.
public func untilDeadline<Value: Sendable>(
    _ deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable () async -> Value
) async -> (value: Value, expired: Bool) {
    let work = Task { await operation() }
    let timer = Task {
        try? await Task.sleep(until: deadline, clock: .continuous)
        guard !Task.isCancelled else { return false }
        work.cancel()
        return true
    }
    let value = await withTaskCancellationHandler {
        await work.value
    } onCancel: {
        work.cancel()
    }
    timer.cancel()
    return (value, await timer.value)
}
