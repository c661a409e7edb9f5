import Edge
import Foundation
import Persistence

/// The `Idempotency-Key` handling every creating call shares: the key is checked, the request
/// fingerprinted before the transaction, and inside it the stored answer is replayed or the new one
/// stored with the object it describes.
struct IdempotentCreation: Sendable {
    let store: IdempotencyStore

    /// A checked key and the fingerprint of the request it came with.
    struct Claim: Sendable {
        let key: String
        let operation: String
        /// Under the current master key first (and the previous one during a rotation).
        let fingerprints: [Data]
    }

    /// Nil without a key; 400 for a key that is not 1 to 255 visible ASCII characters.
    func claim(key: String?, operation: String, request: some Encodable) throws -> Claim? {
        guard let key else { return nil }
        guard IdempotencyStore.isValid(key: key) else {
            throw APIError.invalid("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Claim(
            key: key, operation: operation,
            fingerprints: store.fingerprints(operation: operation, canonicalBody: try encoder.encode(request)))
    }

    /// Runs `create` once per claim and namespace; a replay decodes the stored answer instead. When
    /// `stillExists` says the object a stored answer describes is gone (revoked since), the replay answers
    /// 409 rather than describe an object that no longer exists.
    func run<Response: Codable & Sendable>(
        _ claim: Claim?, namespace: IdempotencyStore.Namespace, in transaction: TenantTransaction,
        stillExists: (Response) async throws -> Bool = { _ in true },
        create: () async throws -> Response
    ) async throws -> Response {
        guard let claim else { return try await create() }
        switch try await store.claim(
            key: claim.key, operation: claim.operation, fingerprints: claim.fingerprints, in: namespace,
            transaction: transaction)
        {
        case .fresh: break
        case .mismatch: throw APIError.idempotencyMismatch()
        case .replay(_, let body):
            let stored = try JSONDecoder().decode(Response.self, from: body)
            guard try await stillExists(stored) else {
                throw APIError.conflict("The object this Idempotency-Key created has been deleted since.")
            }
            return stored
        }
        let response = try await create()
        try await store.complete(
            key: claim.key, operation: claim.operation, status: 201, body: try JSONEncoder().encode(response),
            in: namespace, transaction: transaction)
        return response
    }
}
