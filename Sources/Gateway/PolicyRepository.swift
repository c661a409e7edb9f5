import Foundation
import Persistence
import PostgresNIO

/// A tenant's policy versions. Every change appends a version; the highest is in force. A tenant that
/// never set one has version 0, `LLMPolicy.standard`.
public struct PolicyRepository: Sendable {
    public struct Version: Sendable, Equatable {
        public let version: Int
        public let policy: LLMPolicy
        public let createdAt: Date?
        public let createdBy: String?
    }

    public init() {}

    /// The version in force.
    public func current(in transaction: TenantTransaction) async throws -> Version {
        let rows = try await transaction.query(
            """
            SELECT version, document::text, created_at, created_by FROM llm_policies
            WHERE tenant_id = \(transaction.tenantID.rawValue) ORDER BY version DESC LIMIT 1
            """)
        return try await Self.first(rows) ?? Version(version: 0, policy: .standard, createdAt: nil, createdBy: nil)
    }

    /// One version, or nil when it does not exist (0 is the standard policy).
    public func version(_ number: Int, in transaction: TenantTransaction) async throws -> Version? {
        if number == 0 { return Version(version: 0, policy: .standard, createdAt: nil, createdBy: nil) }
        let rows = try await transaction.query(
            """
            SELECT version, document::text, created_at, created_by FROM llm_policies
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND version = \(number)
            """)
        return try await Self.first(rows)
    }

    /// Appends `policy` as the next version. The tenant's policy rows are locked for the transaction
    /// (through its tenants row), so concurrent changes get consecutive versions.
    public func append(_ policy: LLMPolicy, createdBy: String, in transaction: TenantTransaction) async throws
        -> Version
    {
        let tenant = transaction.tenantID.rawValue
        try await transaction.query("SELECT 1 FROM tenants WHERE tenant_id = \(tenant) FOR NO KEY UPDATE")
        let document = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        let rows = try await transaction.query(
            """
            INSERT INTO llm_policies (tenant_id, version, document, created_by)
            SELECT \(tenant), COALESCE(max(version), 0) + 1, \(document)::jsonb, \(createdBy)
            FROM llm_policies WHERE tenant_id = \(tenant)
            RETURNING version, document::text, created_at, created_by
            """)
        guard let version = try await Self.first(rows) else { throw PolicyInvalid(reason: "the policy was not stored") }
        return version
    }

    /// A stored policy document.
    public static func decode(_ document: String) throws -> LLMPolicy {
        try JSONDecoder().decode(LLMPolicy.self, from: Data(document.utf8))
    }

    static func first(_ rows: PostgresRowSequence) async throws -> Version? {
        for try await (version, document, createdAt, createdBy) in rows.decode((Int, String, Date, String).self) {
            let policy = try decode(document)
            return Version(version: version, policy: policy, createdAt: createdAt, createdBy: createdBy)
        }
        return nil
    }
}
