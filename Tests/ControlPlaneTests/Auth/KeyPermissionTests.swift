import Foundation
import HummingbirdTesting
import Testing

/// Defect 7: any `keys:write` key could revoke the owner's all-scope key; rotation already checked.
@Suite(.timeLimit(.minutes(3))) struct KeyPermissionTests {
    @Test func aKeyCannotRevokeAKeyWithScopesItLacks() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let narrow = try await client.createKey(token: tenant.token, scopes: ["keys:read", "keys:write"])
            try await client.send(.delete, "/v1/keys/\(tenant.keyID)", token: narrow.token).expectProblem(
                403, "forbidden")
            #expect(
                try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok,
                "the owner key still works")
            // A key within its scopes may be revoked by it.
            let narrower = try await client.createKey(token: tenant.token, scopes: ["keys:read"])
            #expect(try await client.send(.delete, "/v1/keys/\(narrower.id)", token: narrow.token).status == .noContent)
        }
    }
}
