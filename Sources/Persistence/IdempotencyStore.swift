import Crypto
import Foundation
import PostgresNIO

/// Stored answers of creating calls made with an `Idempotency-Key`. A claim runs inside the same
/// transaction as the creation: concurrent calls with one key wait on the first one's row lock, then
/// see its stored answer, so a key creates at most one object however many copies race. Records belong
/// to the caller that made them, are sealed with the caller bound into the associated data, and are
/// pruned after `retention`.
public struct IdempotencyStore: Sendable {
    /// Whose records a claim looks at.
    public enum Namespace: Sendable, Equatable {
        /// One credential (API key or user) of the transaction's tenant.
        case caller(String)
        /// Platform-wide, for signup (before any tenant or caller exists).
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

    /// How long a record is kept.
    public static let retention: Duration = .seconds(24 * 3600)
    /// The longest `Idempotency-Key` accepted, in bytes.
    public static let maxKeyLength = 255

    let box: SecretBox
    /// The current key first; during a master key rotation, the previous one's too.
    private let fingerprintKeys: [SymmetricKey]

    public init(box: SecretBox) {
        self.box = box
        self.fingerprintKeys = box.derivedKeys(purpose: "controlplane/idempotency-fingerprint/v1")
    }

    /// Whether `key` is an acceptable `Idempotency-Key`: 1 to 255 visible ASCII characters.
    public static func isValid(key: String) -> Bool {
        (1...maxKeyLength).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// A keyed digest (HMAC-SHA256, key derived from the master key) of the operation and the canonical
    /// request. Keyed, so a stored fingerprint of a body holding a password cannot be brute-forced.
    public func fingerprint(operation: String, canonicalBody: Data) -> Data {
        fingerprints(operation: operation, canonicalBody: canonicalBody)[0]
    }

    /// The fingerprint under each key, the current one first: a record stored before a master key
    /// rotation still matches its request.
    public func fingerprints(operation: String, canonicalBody: Data) -> [Data] {
        fingerprintKeys.map { key in
            var mac = HMAC<SHA256>(key: key)
            mac.update(data: Data(operation.utf8))
            mac.update(data: Data([0]))
            mac.update(data: canonicalBody)
            return Data(mac.finalize())
        }
    }

    /// What a stored answer is sealed for (its row), so it cannot be moved to another.
    public static func sealContext(
        _ namespace: Namespace, _ tenantID: TenantID, _ operation: String, _ key: String
    ) -> String {
        switch namespace {
        case .caller(let caller): "idempotency:\(tenantID):\(caller):\(operation):\(key)"
        case .signup: "idempotency:signup:\(key)"
        }
    }

    public func claim(
        key: String, operation: String, fingerprints: [Data], in namespace: Namespace, transaction: TenantTransaction
    ) async throws -> Claim {
        guard let fingerprint = fingerprints.first else { return .mismatch }
        let tenant = transaction.tenantID.rawValue
        let inserted: PostgresRowSequence
        switch namespace {
        case .caller(let caller):
            inserted = try await transaction.query(
                """
                INSERT INTO idempotency_records
                    (tenant_id, caller, idem_key, operation, request_hash, status_code, response_sealed)
                VALUES (\(tenant), \(caller), \(key), \(operation), \(fingerprint), 0, '\\x'::bytea)
                ON CONFLICT DO NOTHING RETURNING 1
                """)
        case .signup:
            inserted = try await transaction.query(
                """
                INSERT INTO signup_idempotency_records (idem_key, request_hash, status_code, response_sealed)
                VALUES (\(key), \(fingerprint), 0, '\\x'::bytea)
                ON CONFLICT DO NOTHING RETURNING 1
                """)
        }
        for try await _ in inserted { return .fresh }

        let stored: PostgresRowSequence
        switch namespace {
        case .caller(let caller):
            stored = try await transaction.query(
                """
                SELECT request_hash, status_code, response_sealed FROM idempotency_records
                WHERE tenant_id = \(tenant) AND caller = \(caller) AND operation = \(operation) AND idem_key = \(key)
                """)
        case .signup:
            stored = try await transaction.query(
                "SELECT request_hash, status_code, response_sealed FROM signup_idempotency_records WHERE idem_key = \(key)"
            )
        }
        for try await (hash, status, sealed) in stored.decode((Data, Int, Data).self) {
            guard fingerprints.map({ constantTimeEquals(hash, $0) }).contains(true) else { return .mismatch }
            let body = try box.open(sealed, context: Self.sealContext(namespace, transaction.tenantID, operation, key))
            return .replay(status: status, body: body)
        }
        // The row vanished between the two statements (pruned): treat the call as new.
        return .fresh
    }

    /// Stores the answer of a `fresh` claim.
    public func complete(
        key: String, operation: String, status: Int, body: Data, in namespace: Namespace,
        transaction: TenantTransaction
    ) async throws {
        let sealed = Data(
            try box.seal(body, context: Self.sealContext(namespace, transaction.tenantID, operation, key)))
        switch namespace {
        case .caller(let caller):
            try await transaction.query(
                """
                UPDATE idempotency_records SET status_code = \(status), response_sealed = \(sealed)
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND caller = \(caller)
                  AND operation = \(operation) AND idem_key = \(key)
                """)
        case .signup:
            try await transaction.query(
                """
                UPDATE signup_idempotency_records SET status_code = \(status), response_sealed = \(sealed)
                WHERE idem_key = \(key)
                """)
        }
    }

    /// Deletes records older than `retention` in every tenant; run in a `.maintenance` transaction, whose
    /// policy allows deleting expired records only. Returns how many went.
    public static func pruneExpired(on connection: PostgresConnection) async throws -> Int {
        let seconds = Double(retention.components.seconds)
        var count = 0
        for try await _ in try await connection.statement(
            """
            DELETE FROM idempotency_records WHERE created_at < now() - make_interval(secs => \(seconds)) RETURNING 1
            """, logger: connection.logger)
        {
            count += 1
        }
        for try await _ in try await connection.statement(
            """
            DELETE FROM signup_idempotency_records WHERE created_at < now() - make_interval(secs => \(seconds))
            RETURNING 1
            """, logger: connection.logger)
        {
            count += 1
        }
        return count
    }
}
