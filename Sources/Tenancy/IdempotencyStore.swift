import Crypto
import Foundation
import PostgresNIO

/// Stored answers of creating calls made with an `Idempotency-Key`. A claim runs inside the same
/// transaction as the creation: concurrent calls with one key wait on the first one's row lock, then
/// see its stored answer, so a key creates at most one object however many copies race.
public struct IdempotencyStore: Sendable {
    /// Where the records live: per tenant, or platform-wide for signup (before any tenant exists).
    public enum Namespace: Sendable {
        case tenant(TenantID)
        case signup
    }

    /// What a claim found.
    public enum Claim: Sendable, Equatable {
        /// No earlier call: do the work and `complete` the record in this transaction.
        case fresh
        /// An earlier call with the same body: answer this again.
        case replay(status: Int, body: Data)
        /// An earlier call with another body.
        case mismatch
    }

    let box: SecretBox

    public init(box: SecretBox) { self.box = box }

    /// A digest of the operation and the canonical request.
    public static func requestHash(operation: String, canonicalBody: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: Data(operation.utf8))
        hasher.update(data: Data([0]))
        hasher.update(data: canonicalBody)
        return Data(hasher.finalize())
    }

    private func context(_ namespace: Namespace, _ operation: String, _ key: String) -> String {
        switch namespace {
        case .tenant(let tenantID): "idempotency:\(tenantID):\(operation):\(key)"
        case .signup: "idempotency:signup:\(key)"
        }
    }

    public func claim(
        key: String, operation: String, requestHash: Data, in namespace: Namespace, on connection: PostgresConnection
    ) async throws -> Claim {
        let inserted: PostgresRowSequence
        switch namespace {
        case .tenant(let tenantID):
            inserted = try await connection.query(
                """
                INSERT INTO idempotency_records (tenant_id, idem_key, operation, request_hash, status_code, response_sealed)
                VALUES (\(tenantID.rawValue), \(key), \(operation), \(requestHash), 0, '\\x'::bytea)
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: connection.logger)
        case .signup:
            inserted = try await connection.query(
                """
                INSERT INTO signup_idempotency_records (idem_key, request_hash, status_code, response_sealed)
                VALUES (\(key), \(requestHash), 0, '\\x'::bytea)
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: connection.logger)
        }
        for try await _ in inserted { return .fresh }

        let stored: PostgresRowSequence
        switch namespace {
        case .tenant(let tenantID):
            stored = try await connection.query(
                """
                SELECT request_hash, status_code, response_sealed FROM idempotency_records
                WHERE tenant_id = \(tenantID.rawValue) AND operation = \(operation) AND idem_key = \(key)
                """, logger: connection.logger)
        case .signup:
            stored = try await connection.query(
                "SELECT request_hash, status_code, response_sealed FROM signup_idempotency_records WHERE idem_key = \(key)",
                logger: connection.logger)
        }
        for try await (hash, status, sealed) in stored.decode((Data, Int, Data).self) {
            guard hash == requestHash else { return .mismatch }
            return .replay(status: status, body: try box.open(sealed, context: context(namespace, operation, key)))
        }
        // The row vanished between the two statements (pruned): treat the call as new.
        return .fresh
    }

    /// Stores the answer of a `fresh` claim.
    public func complete(
        key: String, operation: String, status: Int, body: Data, in namespace: Namespace,
        on connection: PostgresConnection
    ) async throws {
        let sealed = Data(try box.seal(body, context: context(namespace, operation, key)))
        switch namespace {
        case .tenant(let tenantID):
            try await connection.query(
                """
                UPDATE idempotency_records SET status_code = \(status), response_sealed = \(sealed)
                WHERE tenant_id = \(tenantID.rawValue) AND operation = \(operation) AND idem_key = \(key)
                """, logger: connection.logger)
        case .signup:
            try await connection.query(
                """
                UPDATE signup_idempotency_records SET status_code = \(status), response_sealed = \(sealed)
                WHERE idem_key = \(key)
                """, logger: connection.logger)
        }
    }
}
