import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Gateway
import Persistence
import Providers
import Tenancy

/// The tenant's LLM policy (versioned) and its provider credentials.
struct PolicyHandler: Sendable {
    let database: Database
    let credentials: CredentialRepository
    let registry: ProviderRegistry
    let policies = PolicyRepository()
    let audit = AuditLog()

    func getPolicy(_ input: Operations.GetPolicy.Input) async throws -> Operations.GetPolicy.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let version = try await database.withTenant(tenantID) { transaction -> PolicyRepository.Version? in
            if let number = input.query.version { return try await policies.version(number, in: transaction) }
            return try await policies.current(in: transaction)
        }
        guard let version else { throw APIError.notFound("policy version") }
        return .ok(.init(body: .json(.init(version))))
    }

    func updatePolicy(_ input: Operations.UpdatePolicy.Input) async throws -> Operations.UpdatePolicy.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send application/json.") }
        let policy = LLMPolicy(body)
        try policy.validate()
        let entry = try scope.auditEntry("policy.update", targetType: "policy", targetID: tenantID.description)
        let version = try await database.withTenant(tenantID) { transaction in
            let actor = principal.auditActor
            let version = try await policies.append(
                policy, createdBy: "\(actor.type.rawValue):\(actor.id)", in: transaction)
            try await audit.record(entry, in: transaction)
            return version
        }
        return .ok(.init(body: .json(.init(version))))
    }

    func listProviders(_ input: Operations.ListProviders.Input) async throws -> Operations.ListProviders.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let stored = try await database.withTenant(tenantID) { try await credentials.list(in: $0) }
        let items = ProviderKind.allCases.map { kind -> Components.Schemas.ProviderStatus in
            let own = stored.first { $0.provider == kind }
            let source: Components.Schemas.ProviderStatus.SourcePayload
            if kind == .mock {
                source = .builtin
            } else if own != nil {
                source = .tenant
            } else if registry.isConfigured(kind, tenantCredential: nil) {
                source = ._operator
            } else {
                source = .none
            }
            return .init(
                provider: .init(rawValue: kind.rawValue) ?? .mock, configured: source != .none, source: source,
                baseUrl: own?.baseURL, updatedAt: own?.updatedAt)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func putProviderCredential(_ input: Operations.PutProviderCredential.Input) async throws
        -> Operations.PutProviderCredential.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let kind = ProviderKind(rawValue: input.path.provider), kind != .mock else {
            throw APIError.notFound("provider")
        }
        guard case .json(let body) = input.body else { throw APIError.invalid("Send application/json.") }
        guard (1...4096).contains(body.apiKey.utf8.count), body.apiKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else { throw APIError.invalid("api_key must be 1 to 4096 visible ASCII characters.") }
        var baseURL: String?
        if let text = body.baseUrl {
            guard kind == .openaiCompatible else {
                throw APIError.invalid("base_url is accepted for openai_compatible only.")
            }
            guard text.utf8.count <= 2048 else { throw APIError.invalid("base_url is too long.") }
            _ = try registry.addressGuard.validate(baseURL: text)
            baseURL = text
        } else if kind == .openaiCompatible {
            throw APIError.invalid("openai_compatible needs a base_url.")
        }
        let entry = try scope.auditEntry("provider_credential.put", targetType: "provider", targetID: kind.rawValue)
        let stored = try await database.withTenant(tenantID) { transaction in
            let stored = try await credentials.put(kind, apiKey: body.apiKey, baseURL: baseURL, in: transaction)
            try await audit.record(entry, in: transaction)
            return stored
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        provider: .init(rawValue: kind.rawValue) ?? .mock, configured: true, source: .tenant,
                        baseUrl: stored.baseURL, updatedAt: stored.updatedAt))))
    }

    func deleteProviderCredential(_ input: Operations.DeleteProviderCredential.Input) async throws
        -> Operations.DeleteProviderCredential.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let kind = ProviderKind(rawValue: input.path.provider) else { throw APIError.notFound("provider") }
        let entry = try scope.auditEntry("provider_credential.delete", targetType: "provider", targetID: kind.rawValue)
        let deleted = try await database.withTenant(tenantID) { transaction in
            guard try await credentials.delete(kind, in: transaction) else { return false }
            try await audit.record(entry, in: transaction)
            return true
        }
        guard deleted else { throw APIError.notFound("credential") }
        return .noContent(.init())
    }
}
