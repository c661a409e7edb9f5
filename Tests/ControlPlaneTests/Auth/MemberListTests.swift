import Auth
import Foundation
import HummingbirdTesting
import Persistence
import Testing

/// `GET /v1/users`: a tenant's members with their roles, paged, its own only, behind `tenant:read`.
@Suite(.timeLimit(.minutes(3))) struct MemberListTests {
    @Test func aTenantListsItsOwnMembersPageByPage() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.signup()
            let first = try await client.send(.get, "/v1/users", token: tenant.token).jsonObject()
            let owners = try #require(first["items"] as? [[String: Any]])
            #expect(owners.count == 1)
            #expect(owners.first?["email"] as? String == tenant.email)
            #expect(owners.first?["role"] as? String == "owner")
            #expect(owners.first?["password_hash"] == nil && first["next_cursor"] == nil)

            // A second member (invitations add them; here straight into the table).
            let tenantID = try #require(TenantID(string: tenant.tenantID))
            let memberEmail = "member-\(UUID().uuidString.prefix(8))@example.test"
            try await TestEnvironment.withDatabase { pool in
                try await Database(client: pool, logger: TestEnvironment.logger).withTenant(tenantID) {
                    try await UserRepository().insert(
                        UserRecord(
                            id: UUID(), tenantID: tenantID, email: memberEmail, role: .member,
                            passwordHash: "$argon2id$unused", createdAt: Date().addingTimeInterval(1)),
                        in: $0)
                }
            }
            let page1 = try await client.send(.get, "/v1/users?limit=1", token: tenant.token).jsonObject()
            let newest = try #require((page1["items"] as? [[String: Any]])?.first)
            #expect(newest["email"] as? String == memberEmail && newest["role"] as? String == "member")
            let cursor = try #require(page1["next_cursor"] as? String)
            let page2 = try await client.send(.get, "/v1/users?limit=1&cursor=\(cursor)", token: tenant.token)
                .jsonObject()
            #expect((page2["items"] as? [[String: Any]])?.first?["email"] as? String == tenant.email)
            #expect(page2["next_cursor"] == nil)

            // Another tenant sees only its own, and cannot use this tenant's cursor.
            let theirs = try await client.send(.get, "/v1/users", token: other.token).jsonObject()
            #expect((theirs["items"] as? [[String: Any]])?.map { $0["email"] as? String } == [other.email])
            try await client.send(.get, "/v1/users?cursor=\(cursor)", token: other.token).expectProblem(
                400, "invalid_request")

            // A key without tenant:read may not list members.
            let narrow = try await client.createKey(token: tenant.token, scopes: ["jobs:read"])
            #expect(try await client.send(.get, "/v1/users", token: narrow.token).status == .forbidden)
            #expect(try await client.send(.get, "/v1/users").status == .unauthorized)
        }
    }
}
