import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Gateway
import Persistence
import Providers
import Tenancy

/// The tenant's LLM policy (versioned) and its provider credentials over HTTP. The rules are
/// `PolicyAdministration`'s.
struct PolicyHandler: Sendable {
    let administration: PolicyAdministration

    func getPolicy(_ input: Operations.GetPolicy.Input) async throws -> Operations.GetPolicy.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let version = try await administration.policy(of: tenantID, version: input.query.version)
        return .ok(.init(body: .json(.init(version))))
    }

    func updatePolicy(_ input: Operations.UpdatePolicy.Input) async throws -> Operations.UpdatePolicy.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send application/json.") }
        let version = try await administration.setPolicy(
            LLMPolicy(body), of: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(version))))
    }

    func listProviders(_ input: Operations.ListProviders.Input) async throws -> Operations.ListProviders.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let items = try await administration.providers(of: tenantID).map { status in
            Components.Schemas.ProviderStatus(
                provider: .init(rawValue: status.provider.rawValue) ?? .mock, configured: status.source != .none,
                source: Self.source(status.source), baseUrl: status.own?.baseURL, updatedAt: status.own?.updatedAt)
        }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func putProviderCredential(_ input: Operations.PutProviderCredential.Input) async throws
        -> Operations.PutProviderCredential.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let kind = ProviderKind(rawValue: input.path.provider) else { throw APIError.notFound("provider") }
        guard case .json(let body) = input.body else { throw APIError.invalid("Send application/json.") }
        let stored = try await administration.putCredential(
            kind, apiKey: body.apiKey, baseURL: body.baseUrl, of: tenantID, recordedAs: try scope.auditCaller())
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
        try await administration.deleteCredential(kind, of: tenantID, recordedAs: try scope.auditCaller())
        return .noContent(.init())
    }

    private static func source(_ source: PolicyAdministration.Source) -> Components.Schemas.ProviderStatus.SourcePayload
    {
        switch source {
        case .builtin: .builtin
        case .tenant: .tenant
        case .operator: ._operator
        case .none: .none
        }
    }
}
