import AsyncHTTPClient
import Crypto
import Foundation
import Gateway
import Persistence
import Providers
import Tenancy
import TestKit
import Testing

/// A tenant's policy and credentials without HTTP: versions, a policy checked whole, the rules of a
/// credential, where each provider's credential comes from, and the audit entries.
@Suite(.timeLimit(.minutes(2))) struct PolicyAdministrationTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-policy", clientAddress: nil)

    static func administration(_ database: Database) -> PolicyAdministration {
        let registry = ProviderRegistry(
            defaults: [.groq: .init(baseURL: nil, apiKey: "gsk-operator")], client: HTTPClient.shared,
            addressGuard: OutboundAddressGuard(allowlist: []))
        return PolicyAdministration(
            database: database, credentials: CredentialRepository(box: SecretBox(key: SymmetricKey(size: .bits256))),
            registry: registry)
    }

    @Test func everyPolicyChangeIsANewVersionAndABadOneIsRefusedWhole() async throws {
        try await TestDatabase.with { database in
            let administration = Self.administration(database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "p")
            let first = try await administration.policy(of: tenantID)
            var changed = first.policy
            changed.cache.ttlSeconds = 60
            let second = try await administration.setPolicy(changed, of: tenantID, recordedAs: Self.caller)
            #expect(second.version == first.version + 1 && second.createdBy == "user:u-1")
            #expect(try await administration.policy(of: tenantID, version: first.version).policy == first.policy)
            var broken = changed
            broken.routes = [:]
            await #expect(throws: PolicyInvalid.self) {
                _ = try await administration.setPolicy(broken, of: tenantID, recordedAs: Self.caller)
            }
            #expect(try await administration.policy(of: tenantID).version == second.version)
            #expect(
                await thrown(Refusal.self) { _ = try await administration.policy(of: tenantID, version: 999) }
                    == .notFound("policy version"))
        }
    }

    @Test func aCredentialFollowsItsRulesAndSaysWhereEachProvidersComesFrom() async throws {
        try await TestDatabase.with { database in
            let administration = Self.administration(database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "p")
            for (provider, key, url, refusal) in [
                (
                    ProviderKind.openai, "", String?.none,
                    Refusal.invalid("api_key must be 1 to 4096 visible ASCII characters.")
                ),
                (.openai, "sk-1", "https://example.com", .invalid("base_url is accepted for openai_compatible only.")),
                (.openaiCompatible, "sk-1", nil, .invalid("openai_compatible needs a base_url.")),
                (.mock, "sk-1", nil, .notFound("provider")),
            ] {
                #expect(
                    await thrown(Refusal.self) {
                        _ = try await administration.putCredential(
                            provider, apiKey: key, baseURL: url, of: tenantID, recordedAs: Self.caller)
                    } == refusal)
            }
            await #expect(throws: AddressRefused.self) {
                _ = try await administration.putCredential(
                    .openaiCompatible, apiKey: "sk-1", baseURL: "http://127.0.0.1:9/v1", of: tenantID,
                    recordedAs: Self.caller)
            }
            _ = try await administration.putCredential(
                .anthropic, apiKey: "sk-ant-1", baseURL: nil, of: tenantID, recordedAs: Self.caller)
            let sources = Dictionary(
                uniqueKeysWithValues: try await administration.providers(of: tenantID).map { ($0.provider, $0.source) })
            #expect(sources[.mock] == .builtin && sources[.anthropic] == .tenant)
            #expect(sources[.groq] == .operator && sources[.gemini] == PolicyAdministration.Source.none)
            try await administration.deleteCredential(.anthropic, of: tenantID, recordedAs: Self.caller)
            #expect(
                await thrown(Refusal.self) {
                    try await administration.deleteCredential(.anthropic, of: tenantID, recordedAs: Self.caller)
                } == .notFound("credential"))
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["provider_credential.delete", "provider_credential.put"])
        }
    }
}
