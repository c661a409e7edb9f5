import PostgresNIO

/// A transaction opened for one tenant: its connection has `app.tenant_id` set to `tenantID`, so
/// row-level security shows that tenant's rows only. Tenant repositories take this instead of a bare
/// connection and a separate id, so they cannot be called outside their tenant or with another id.
public struct TenantTransaction: Sendable {
    public let connection: PostgresConnection
    public let tenantID: TenantID

    /// Runs one statement on the transaction's connection.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await connection.statement(query, logger: connection.logger)
    }

    /// Narrows a platform transaction to `tenantID` for the rest of it (login finds the tenant only
    /// after reading the platform-wide directory).
    public static func switching(_ connection: PostgresConnection, to tenantID: TenantID) async throws
        -> TenantTransaction
    {
        try await connection.statement(
            "SELECT set_config('app.tenant_id', \(tenantID.description), true)", logger: connection.logger)
        return TenantTransaction(connection: connection, tenantID: tenantID)
    }
}
