import Foundation
import Persistence
import Providers
import Tenancy

/// A tenant's LLM policy (every change a new version) and its own provider credentials: what they are,
/// and the rules of changing them. A policy is checked whole before it is stored; a credential's key is
/// 1 to 4096 visible ASCII characters, a base URL is taken for `openai_compatible` only (and required
/// there) and must pass the outbound address guard. Every change is audited in its transaction.
public struct PolicyAdministration: Sendable {
    let database: Database
    let credentials: CredentialRepository
    let registry: ProviderRegistry
    let policies = PolicyRepository()
    let audit = AuditLog()

    public init(database: Database, credentials: CredentialRepository, registry: ProviderRegistry) {
        self.database = database
        self.credentials = credentials
        self.registry = registry
    }

    /// Where a provider's credential for the tenant comes from.
    public enum Source: String, Sendable {
        /// `mock`, which needs none.
        case builtin
        /// The tenant's own.
        case tenant
        /// The operator's default.
        case `operator`
        /// Nowhere: calls to the provider fail.
        case none
    }

    /// One provider as the tenant sees it: where its credential comes from, and the tenant's own, if any.
    public struct ProviderStatus: Sendable {
        public let provider: ProviderKind
        public let source: Source
        public let own: CredentialRepository.Stored?
    }

    /// The current policy, or version `number`.
    public func policy(of tenantID: TenantID, version number: Int? = nil) async throws -> PolicyRepository.Version {
        let version = try await database.withTenant(tenantID) { transaction -> PolicyRepository.Version? in
            if let number { return try await policies.version(number, in: transaction) }
            return try await policies.current(in: transaction)
        }
        guard let version else { throw Refusal.notFound("policy version") }
        return version
    }

    /// Checks `policy` whole (`PolicyInvalid` names what is wrong) and stores it as the next version.
    public func setPolicy(_ policy: LLMPolicy, of tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws -> PolicyRepository.Version
    {
        try policy.validate()
        return try await database.withTenant(tenantID) { transaction in
            let version = try await policies.append(
                policy, createdBy: caller.name, in: transaction)
            try await audit.record(
                caller.entry("policy.update", targetType: "policy", targetID: tenantID.description), in: transaction)
            return version
        }
    }

    /// Every provider, with where the tenant's calls to it take their credential from.
    public func providers(of tenantID: TenantID) async throws -> [ProviderStatus] {
        let stored = try await database.withTenant(tenantID) { try await credentials.list(in: $0) }
        return ProviderKind.allCases.map { kind in
            let own = stored.first { $0.provider == kind }
            return ProviderStatus(provider: kind, source: source(of: kind, own: own), own: own)
        }
    }

    private func source(of kind: ProviderKind, own: CredentialRepository.Stored?) -> Source {
        if kind == .mock { return .builtin }
        if own != nil { return .tenant }
        return registry.isConfigured(kind, tenantCredential: nil) ? .operator : .none
    }

    /// Stores the tenant's own credential for `provider`, replacing any before it.
    public func putCredential(
        _ provider: ProviderKind, apiKey: String, baseURL: String?, of tenantID: TenantID,
        recordedAs caller: AuditLog.Caller
    ) async throws -> CredentialRepository.Stored {
        guard provider != .mock else { throw Refusal.notFound("provider") }
        guard (1...4096).contains(apiKey.utf8.count), apiKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Refusal.invalid("api_key must be 1 to 4096 visible ASCII characters.")
        }
        if let baseURL {
            guard provider == .openaiCompatible else {
                throw Refusal.invalid("base_url is accepted for openai_compatible only.")
            }
            guard baseURL.utf8.count <= 2048 else { throw Refusal.invalid("base_url is too long.") }
            _ = try registry.addressGuard.validate(baseURL: baseURL)
        } else if provider == .openaiCompatible {
            throw Refusal.invalid("openai_compatible needs a base_url.")
        }
        return try await database.withTenant(tenantID) { transaction in
            let stored = try await credentials.put(provider, apiKey: apiKey, baseURL: baseURL, in: transaction)
            try await audit.record(
                caller.entry("provider_credential.put", targetType: "provider", targetID: provider.rawValue),
                in: transaction)
            return stored
        }
    }

    /// Forgets the tenant's own credential for `provider`.
    public func deleteCredential(_ provider: ProviderKind, of tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws
    {
        let deleted = try await database.withTenant(tenantID) { transaction in
            guard try await credentials.delete(provider, in: transaction) else { return false }
            try await audit.record(
                caller.entry("provider_credential.delete", targetType: "provider", targetID: provider.rawValue),
                in: transaction)
            return true
        }
        guard deleted else { throw Refusal.notFound("credential") }
    }
}
