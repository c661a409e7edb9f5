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
///
/// A batch of one runs as `one` (nothing added to a lone item's latency), a larger one as `many`. When
/// `many` fails with an error `retriesAlone` accepts (the statement itself was refused: one item failed
/// and rolled the others back), each item runs alone, so only the failing one fails; any other failure
/// (the database away, the deadline passed) is every item's.
public final class TenantBatcher<Item: Sendable, Output: Sendable>: Sendable {
    /// Runs one item.
    public typealias One = @Sendable (TenantID, Item) async throws -> Output
    /// Runs a batch: one output per item, in order.
    public typealias Many = @Sendable (TenantID, [Item]) async throws -> [Output]

    private enum Turn: Sendable {
        case done(Result<Output, any Error>)
        case lead([Waiter])
    }

    private struct Waiter: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Turn, Never>
    }

    /// The most items one batch carries.
    public let limit: Int
    private let one: One
    private let many: Many
    private let retriesAlone: @Sendable (any Error) -> Bool
    /// Tenants with a batch in flight, and who waits behind it.
    private let lines = Mutex<[TenantID: [Waiter]]>([:])

    public init(
        limit: Int = 64, retriesAlone: @escaping @Sendable (any Error) -> Bool, one: @escaping One,
        many: @escaping Many
    ) {
        precondition(limit >= 1)
        self.limit = limit
        self.retriesAlone = retriesAlone
        self.one = one
        self.many = many
    }

    /// Runs `item` in the tenant's next batch and answers its own result.
    public func submit(_ item: Item, for tenant: TenantID) async throws -> Output {
        let leads = lines.withLock { lines -> Bool in
            guard lines[tenant] == nil else { return false }
            lines[tenant] = []
            return true
        }
        if leads {
            return try await lead(tenant, first: item, others: []).get()
        }
        let turn = await withCheckedContinuation { continuation in
            let queued = lines.withLock { lines -> Bool in
                // The batch in flight may have ended between the two looks: then this item leads.
                guard lines[tenant] != nil else {
                    lines[tenant] = []
                    return false
                }
                lines[tenant]?.append(Waiter(item: item, continuation: continuation))
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

    /// Runs a batch (see the type's description): one result per item, in order.
    private func run(_ tenant: TenantID, _ items: [Item]) async -> [Result<Output, any Error>] {
        if items.count == 1 {
            return [await Result(awaiting: { try await one(tenant, items[0]) })]
        }
        do {
            let outputs = try await many(tenant, items)
            guard outputs.count == items.count else {
                let mismatch = BatchAnswerMismatch(items: items.count, results: outputs.count)
                return Array(repeating: .failure(mismatch), count: items.count)
            }
            return outputs.map { .success($0) }
        } catch  where retriesAlone(error) {
            var results: [Result<Output, any Error>] = []
            for item in items { results.append(await Result(awaiting: { try await one(tenant, item) })) }
            return results
        } catch {
            return Array(repeating: .failure(error), count: items.count)
        }
    }

    /// How many items of `tenant` wait behind its batch in flight.
    func waiting(for tenant: TenantID) -> Int { lines.withLock { $0[tenant]?.count ?? 0 } }

    /// Runs a batch of `first` and `others`, answers the others, and hands the next batch (if any waits)
    /// to its first item.
    private func lead(_ tenant: TenantID, first: Item, others: [Waiter]) async -> Result<Output, any Error> {
        let items = [first] + others.map(\.item)
        // Its own task: the leader's caller going away (a closed request) must not fail the others' items.
        let results = await Task { await run(tenant, items) }.value
        for (waiter, result) in zip(others, results.dropFirst()) {
            waiter.continuation.resume(returning: .done(result))
        }
        let next = lines.withLock { lines -> [Waiter] in
            guard let waiting = lines[tenant], !waiting.isEmpty else {
                lines[tenant] = nil
                return []
            }
            lines[tenant] = Array(waiting.dropFirst(limit))
            return Array(waiting.prefix(limit))
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

extension Result where Failure == any Error {
    /// The outcome of `body`, its error kept as the failure.
    init(awaiting body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
