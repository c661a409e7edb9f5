import Foundation
import Persistence
import PostgresNIO
import Providers

/// A tenant's own provider credentials, sealed with the master key (AES-GCM bound to the tenant and the
/// provider, so a sealed key copied to another row does not open). Keys are never returned by the API.
public struct CredentialRepository: Sendable {
    public struct Stored: Sendable, Equatable {
        public let provider: ProviderKind
        public let baseURL: String?
        public let updatedAt: Date
    }

    public struct Credential: Sendable, Equatable {
        public let apiKey: String
        public let baseURL: String?
    }

    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    /// What a credential is sealed for (its tenant and provider), so it cannot be moved to another row.
    public static func sealContext(_ tenantID: TenantID, _ provider: String) -> String {
        "provider-credential:\(tenantID):\(provider)"
    }

    private func context(_ tenantID: TenantID, _ provider: ProviderKind) -> String {
        Self.sealContext(tenantID, provider.rawValue)
    }

    /// Which providers the tenant has credentials for (never the keys).
    public func list(in transaction: TenantTransaction) async throws -> [Stored] {
        var stored: [Stored] = []
        let rows = try await transaction.query(
            """
            SELECT provider, base_url, updated_at FROM provider_credentials
            WHERE tenant_id = \(transaction.tenantID.rawValue) ORDER BY provider
            """)
        for try await (provider, baseURL, updatedAt) in rows.decode((String, String?, Date).self) {
            guard let kind = ProviderKind(rawValue: provider) else { continue }
            stored.append(Stored(provider: kind, baseURL: baseURL, updatedAt: updatedAt))
        }
        return stored
    }

    /// Opens one sealed key of `tenantID` for `provider`.
    func open(_ sealed: Data, baseURL: String?, provider: ProviderKind, tenantID: TenantID) throws -> Credential {
        let key = try box.open(sealed, context: context(tenantID, provider))
        return Credential(apiKey: String(decoding: key, as: UTF8.self), baseURL: baseURL)
    }

    public func put(
        _ provider: ProviderKind, apiKey: String, baseURL: String?, in transaction: TenantTransaction
    ) async throws -> Stored {
        let sealed = try box.seal(Data(apiKey.utf8), context: context(transaction.tenantID, provider))
        let rows = try await transaction.query(
            """
            INSERT INTO provider_credentials (tenant_id, provider, api_key_sealed, base_url)
            VALUES (\(transaction.tenantID.rawValue), \(provider.rawValue), \(Data(sealed)), \(baseURL))
            ON CONFLICT (tenant_id, provider) DO UPDATE
                SET api_key_sealed = EXCLUDED.api_key_sealed, base_url = EXCLUDED.base_url, updated_at = now()
            RETURNING updated_at
            """)
        var updatedAt = Date()
        for try await value in rows.decode(Date.self) { updatedAt = value }
        return Stored(provider: provider, baseURL: baseURL, updatedAt: updatedAt)
    }

    /// Deletes the credential; answers whether there was one.
    public func delete(_ provider: ProviderKind, in transaction: TenantTransaction) async throws -> Bool {
        let rows = try await transaction.query(
            """
            DELETE FROM provider_credentials
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND provider = \(provider.rawValue)
            RETURNING provider
            """)
        for try await _ in rows { return true }
        return false
    }
}
