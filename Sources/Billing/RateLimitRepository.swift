import Foundation
import Persistence
import PostgresNIO

/// Reads and changes a tenant's rate limit: the tenant's own setting in its transaction, the caps only
/// in an operator transaction (`operator_set_rate_limit`).
public struct RateLimitRepository: Sendable {
    public init() {}

    static let columns = "requests_per_minute, burst, max_requests_per_minute, max_burst, updated_at"

    /// Makes a new tenant's row, in its signup transaction.
    public func provision(_ limit: RateLimit, in transaction: TenantTransaction) async throws {
        try await transaction.query(
            """
            INSERT INTO rate_limits (tenant_id, requests_per_minute, burst, max_requests_per_minute, max_burst)
            VALUES (\(transaction.tenantID.rawValue), \(limit.requestsPerMinute), \(limit.burst),
                    \(limit.maxRequestsPerMinute), \(limit.maxBurst))
            """)
    }

    public func find(in transaction: TenantTransaction) async throws -> RateLimit? {
        try await Self.first(
            try await transaction.query(
                "SELECT \(unescaped: Self.columns) FROM rate_limits WHERE tenant_id = \(transaction.tenantID.rawValue)")
        )
    }

    /// Sets the tenant's own limit; throws `AboveCap` when a value passes the operator's cap.
    public func update(requestsPerMinute: Int, burst: Int, in transaction: TenantTransaction) async throws
        -> RateLimit?
    {
        let tenant = transaction.tenantID.rawValue
        guard
            let current = try await Self.first(
                try await transaction.query(
                    "SELECT \(unescaped: Self.columns) FROM rate_limits WHERE tenant_id = \(tenant) FOR UPDATE"))
        else { return nil }
        if requestsPerMinute > current.maxRequestsPerMinute {
            throw AboveCap(field: "requests_per_minute", cap: Int64(current.maxRequestsPerMinute))
        }
        if burst > current.maxBurst { throw AboveCap(field: "burst", cap: Int64(current.maxBurst)) }
        return try await Self.first(
            try await transaction.query(
                """
                UPDATE rate_limits SET requests_per_minute = \(requestsPerMinute), burst = \(burst), updated_at = now()
                WHERE tenant_id = \(tenant) RETURNING \(unescaped: Self.columns)
                """))
    }

    /// Sets the caps (and optionally the tenant's own values, clamped to them), in an operator
    /// transaction acting on the tenant.
    public func operatorUpdate(
        maxRequestsPerMinute: Int, maxBurst: Int, requestsPerMinute: Int?, burst: Int?,
        in transaction: TenantTransaction
    ) async throws -> RateLimit? {
        try await Self.first(
            try await transaction.query(
                """
                SELECT \(unescaped: Self.columns) FROM operator_set_rate_limit(
                    \(transaction.tenantID.rawValue), \(maxRequestsPerMinute)::integer, \(maxBurst)::integer,
                    \(requestsPerMinute)::integer, \(burst)::integer)
                """))
    }

    static func first(_ rows: PostgresRowSequence) async throws -> RateLimit? {
        for try await (rpm, burst, maxRPM, maxBurst, updatedAt) in rows.decode((Int, Int, Int, Int, Date).self) {
            return RateLimit(
                requestsPerMinute: rpm, burst: burst, maxRequestsPerMinute: maxRPM, maxBurst: maxBurst,
                updatedAt: updatedAt)
        }
        return nil
    }
}
