import Synchronization
import Testing

@testable import Tenancy

/// Waits until `condition` holds, checking every 10 ms for at most 5 s, and expects that it does.
func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition(), ContinuousClock.now < deadline { try await Pause.for(.milliseconds(10)) }
    #expect(condition())
}

/// A value changed from several tasks.
final class Guarded<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}
