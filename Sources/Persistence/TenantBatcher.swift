import Synchronization

/// Group commit for one tenant's statements: while a batch of a tenant is in flight, that tenant's next
/// items wait and then go together as the next batch (at most `limit` of them), in arrival order. One
/// statement and one durable commit serve the whole batch, and the tenant's hot rows (its budget period,
/// its hourly counter) are locked once per batch instead of once per item.
///
/// Tenants never share a batch: a batch runs on a connection of its tenant's own share, so one tenant's
/// slow or locked batch delays only that tenant's items. An idle tenant's item goes at once (no waiting
/// for company): batching only happens under that tenant's own concurrency. The item that finds no batch
/// in flight runs it; when it ends, the first waiting item takes the next batch.
public final class TenantBatcher<Item: Sendable, Output: Sendable>: Sendable {
    /// Runs one batch of a tenant: one result per item, in order (a failure of one item is its own).
    public typealias Run = @Sendable (TenantID, [Item]) async throws -> [Result<Output, any Error>]

    private enum Turn: Sendable {
        case done(Result<Output, any Error>)
        case lead([Waiter])
    }

    private struct Waiter: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct Line {
        var waiting: [Waiter] = []
    }

    /// The most items one batch carries.
    public let limit: Int
    private let run: Run
    /// Tenants with a batch in flight, and who waits behind it.
    private let lines = Mutex<[TenantID: Line]>([:])

    public init(limit: Int = 64, run: @escaping Run) {
        precondition(limit >= 1)
        self.limit = limit
        self.run = run
    }

    /// Runs `item` in the tenant's next batch and answers its own result.
    public func submit(_ item: Item, for tenant: TenantID) async throws -> Output {
        let leads = lines.withLock { lines -> Bool in
            guard lines[tenant] == nil else { return false }
            lines[tenant] = Line()
            return true
        }
        if leads {
            return try await lead(tenant, first: item, others: []).get()
        }
        let turn = await withCheckedContinuation { continuation in
            let queued = lines.withLock { lines -> Bool in
                // The batch in flight may have ended between the two looks: then this item leads.
                guard lines[tenant] != nil else {
                    lines[tenant] = Line()
                    return false
                }
                lines[tenant]?.waiting.append(Waiter(item: item, continuation: continuation))
                return true
            }
            if !queued { continuation.resume(returning: .lead([])) }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead(let others):
            return try await lead(tenant, first: item, others: others).get()
        }
    }

    /// How many items of `tenant` wait behind its batch in flight.
    func waiting(for tenant: TenantID) -> Int { lines.withLock { $0[tenant]?.waiting.count ?? 0 } }

    /// Runs a batch of `first` and `others`, answers the others, and hands the next batch (if any waits)
    /// to its first item.
    private func lead(_ tenant: TenantID, first: Item, others: [Waiter]) async -> Result<Output, any Error> {
        let items = [first] + others.map(\.item)
        // Its own task: the leader's caller going away (a closed request) must not fail the others' items.
        let run = self.run
        var results: [Result<Output, any Error>]
        switch await Task(operation: { try await run(tenant, items) }).result {
        case .success(let answered) where answered.count == items.count:
            results = answered
        case .success(let answered):
            let mismatch = BatchAnswerMismatch(items: items.count, results: answered.count)
            results = Array(repeating: .failure(mismatch), count: items.count)
        case .failure(let error):
            results = Array(repeating: .failure(error), count: items.count)
        }
        for (waiter, result) in zip(others, results.dropFirst()) {
            waiter.continuation.resume(returning: .done(result))
        }
        let next = lines.withLock { lines -> [Waiter] in
            guard var line = lines[tenant], !line.waiting.isEmpty else {
                lines[tenant] = nil
                return []
            }
            let batch = Array(line.waiting.prefix(limit))
            line.waiting.removeFirst(batch.count)
            lines[tenant] = line
            return batch
        }
        if let leader = next.first {
            leader.continuation.resume(returning: .lead(Array(next.dropFirst())))
        }
        return results[0]
    }
}

/// A batch's statement answered a different number of rows than it was given items: every item of the
/// batch fails with this rather than taking another item's answer.
public struct BatchAnswerMismatch: Error, CustomStringConvertible {
    public let items: Int
    public let results: Int
    public var description: String { "a batch of \(items) items was answered with \(results) results" }
}
