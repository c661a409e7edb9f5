import BlockingWork
import Synchronization
import Testing

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns the time it took, or nil.
/// The time is when the check that succeeded began: on a loaded machine the check itself (a request through
/// a test client) may take long, and that time is the harness's, not the code's under test.
public func waitUntil(
    timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async throws -> Duration? {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < timeout {
        let asked = ContinuousClock.now - start
        if try await condition() { return asked }
        try await Pause.for(interval)
    }
    let asked = ContinuousClock.now - start
    return try await condition() ? asked : nil
}

/// Waits until `condition` holds, checking every 10 ms for at most 5 s, and expects that it does.
public func eventually(
    _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let took = try await waitUntil(timeout: .seconds(5), interval: .milliseconds(10)) { condition() }
    #expect(took != nil, sourceLocation: sourceLocation)
}

/// A value shared by concurrent test tasks.
public final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    public init(_ value: Value) { storage = Mutex(value) }
    public func withLock<Result>(_ body: (inout Value) -> Result) -> Result { storage.withLock { body(&$0) } }
}

/// The error of type `E` that `body` throws; nil when it throws nothing. Any other error is recorded as
/// an issue (and nil answered), so a test that expects a refusal fails loudly on an unexpected failure.
public func thrown<E: Error>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, by body: () async throws -> Void
) async -> E? {
    do {
        try await body()
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
