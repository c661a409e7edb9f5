import Synchronization

/// How many statements and transactions hold or wait for one of the pool's connections right now, and
/// how many connections the pool may open: the database pool's use, for `/metrics`.
public final class PoolUsage: Sendable {
    /// The pool's size (`CP_DATABASE_POOL_SIZE`).
    public let capacity: Int
    private let current = Atomic<Int>(0)

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Operations holding or waiting for a connection.
    public var inUse: Int { current.load(ordering: .relaxed) }

    /// Runs `body` counted as one connection in use.
    func counting<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        current.add(1, ordering: .relaxed)
        defer { current.subtract(1, ordering: .relaxed) }
        return try await body()
    }
}
