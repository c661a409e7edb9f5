import PostgresNIO

/// Reads a Postgres unique-constraint violation (SQLSTATE 23505) out of an error.
public struct UniqueViolation: Sendable {
    /// The name of the violated constraint or unique index.
    public let constraint: String

    /// The violation carried by `error`, or nil when `error` is anything else.
    public init?(_ error: any Error) {
        guard let error = error as? PSQLError, error.serverInfo?[.sqlState] == "23505" else { return nil }
        self.constraint = error.serverInfo?[.constraintName] ?? ""
    }
}
