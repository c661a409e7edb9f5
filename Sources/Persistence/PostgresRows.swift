import PostgresNIO

/// The rows of one statement run outside a transaction (`Database.query`), read to the end while its
/// connection was held, so that the connection was back in the pool before the caller looked at them.
/// An `AsyncSequence` of `PostgresRow`, so postgres-nio's `decode` reads it as it reads a live stream.
public struct PostgresRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public let rows: [PostgresRow]

    public init(_ rows: [PostgresRow]) { self.rows = rows }

    /// The rows, as `PostgresRowSequence.collect()` gives them.
    public func collect() -> [PostgresRow] { rows }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        public mutating func next() async throws -> PostgresRow? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }
}
