import Auth
import BlockingWork
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestKit
import Testing

@Suite(.timeLimit(.minutes(3))) struct KeyTests {
    @Test func keysAreListedNewestFirstWithCursorPagination() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            var created: [String] = []
            for _ in 0..<3 {
                created.append(try await client.createKey(token: tenant.token, scopes: ["tenant:read"]).id)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/keys?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri, token: tenant.token).jsonObject()
                let items = page["items"] as? [[String: Any]] ?? []
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == created.reversed() + [tenant.keyID])
            try await client.send(.get, "/v1/keys?limit=0", token: tenant.token).expectProblem(400, "invalid_request")
            try await client.send(.get, "/v1/keys?limit=101", token: tenant.token).expectProblem(400, "invalid_request")
            try await client.send(.get, "/v1/keys?cursor=%25%25bogus", token: tenant.token).expectProblem(
                400, "invalid_request")
        }
    }

    @Test func rotationWithGraceKeepsTheOldKeyAliveThenZeroGraceRevokesAtOnce() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let old = try await client.createKey(token: tenant.token, scopes: ["tenant:read"])
            let graceful = try await client.send(
                .post, "/v1/keys/\(old.id)/rotate", token: tenant.token, json: ["grace_seconds": 300])
            #expect(graceful.status == .created)
            let body = try graceful.jsonObject()
            let replacement = try #require(body["api_key"] as? [String: Any])
            let newToken = try #require(replacement["token"] as? String)
            #expect((body["previous_key"] as? [String: Any])?["revoked_at"] is String)
            #expect(try await client.send(.get, "/v1/tenant", token: old.token).status == .ok)
            #expect(try await client.send(.get, "/v1/tenant", token: newToken).status == .ok)

            let newID = try #require(replacement["id"] as? String)
            let immediate = try await client.send(
                .post, "/v1/keys/\(newID)/rotate", token: tenant.token, json: ["grace_seconds": 0])
            #expect(immediate.status == .created)
            try await client.send(.get, "/v1/tenant", token: newToken).expectProblem(401, "unauthenticated")
            // A key superseded by a rotation stays readable with its revocation, and cannot be rotated again.
            let superseded = try await client.send(.get, "/v1/keys/\(newID)", token: tenant.token)
            #expect(try superseded.jsonObject()["revoked_at"] is String)
            try await client.send(.post, "/v1/keys/\(newID)/rotate", token: tenant.token, json: ["grace_seconds": 0])
                .expectProblem(409, "conflict")
            // Revoking it (DELETE) removes it from the API.
            #expect(try await client.send(.delete, "/v1/keys/\(newID)", token: tenant.token).status == .noContent)
            try await client.send(.get, "/v1/keys/\(newID)", token: tenant.token).expectProblem(404, "not_found")
        }
    }

    /// Two replicas share one database: a key revoked through one is refused by the other, which had it
    /// cached as valid, within one second.
    @Test func revocationReachesAnotherReplicaWithinOneSecond() async throws {
        try await TestEnvironment.withApp { first in
            let tenant = try await first.signup()
            let key = try await first.createKey(token: tenant.token, scopes: ["tenant:read"])
            try await TestEnvironment.withApp { second in
                // Warm the second replica's caches.
                for _ in 0..<3 { #expect(try await second.send(.get, "/v1/tenant", token: key.token).status == .ok) }
                // Its listener must be subscribed before the revocation is announced.
                try await Pause.for(.milliseconds(300))
                #expect(try await first.send(.delete, "/v1/keys/\(key.id)", token: tenant.token).status == .noContent)
                // Timed by when the refused request was sent, so a loaded machine's slow test client does
                // not count against the server; the last check comes after the second has passed.
                let took = try await waitUntil(timeout: .seconds(1)) {
                    try await second.send(.get, "/v1/tenant", token: key.token).status == .unauthorized
                }
                #expect(took != nil, "the revoked key still worked on the other replica after 1 s")
            }
        }
    }

    @Test func anIdempotencyKeyReplayedTenTimesAtOnceCreatesOneKey() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let idempotency: HTTPFields = [HTTPField.Name("Idempotency-Key")!: UUID().uuidString]
            let ids = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let response = try await client.send(
                            .post, "/v1/keys", token: tenant.token, json: ["name": "ci", "scopes": ["tenant:read"]],
                            headers: idempotency)
                        return (response.status.code, try response.jsonObject()["id"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(ids.allSatisfy { $0.0 == 201 })
            #expect(Set(ids.compactMap(\.1)).count == 1)
            let listed = try await client.send(.get, "/v1/keys", token: tenant.token).jsonObject()
            #expect((listed["items"] as? [Any])?.count == 2)

            let otherBody = try await client.send(
                .post, "/v1/keys", token: tenant.token, json: ["name": "other", "scopes": ["tenant:read"]],
                headers: idempotency)
            try otherBody.expectProblem(422, "invalid_request")
        }
    }

    @Test func signupWithAnIdempotencyKeyAnswersTheSameTenantAgain() async throws {
        try await TestEnvironment.withApp { client in
            let slug = uniqueSlug()
            let json: [String: Any] = [
                "organization_name": "Once", "slug": slug, "admin_email": "\(slug)@example.test",
                "admin_password": "correct horse battery",
            ]
            let idempotency: HTTPFields = [HTTPField.Name("Idempotency-Key")!: UUID().uuidString]
            let first = try await client.send(.post, "/v1/signup", json: json, headers: idempotency)
            let second = try await client.send(.post, "/v1/signup", json: json, headers: idempotency)
            #expect(first.status == .created && second.status == .created)
            #expect(
                (try first.jsonObject()["tenant"] as? [String: Any])?["id"] as? String
                    == (try second.jsonObject()["tenant"] as? [String: Any])?["id"] as? String)
        }
    }

    @Test func everyMutatingCallIsInTheAuditLogWithItsRequestID() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let requestID: HTTPFields = [HTTPField.Name("X-Request-Id")!: "audit-\(UUID().uuidString.prefix(8))"]
            let create = try await client.send(
                .post, "/v1/keys", token: tenant.token, json: ["name": "a", "scopes": ["tenant:read"]],
                headers: requestID)
            let keyID = try #require(try create.jsonObject()["id"] as? String)
            _ = try await client.send(.patch, "/v1/tenant", token: tenant.token, json: ["name": "Renamed"])
            _ = try await client.send(.delete, "/v1/keys/\(keyID)", token: tenant.token)
            let log = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let events = log["items"] as? [[String: Any]] ?? []
            #expect(
                events.compactMap { $0["action"] as? String } == [
                    "key.revoke", "tenant.update", "key.create", "tenant.signup",
                ])
            let created = try #require(events.first { $0["action"] as? String == "key.create" })
            #expect(created["request_id"] as? String == requestID[HTTPField.Name("X-Request-Id")!])
            #expect(created["actor_type"] as? String == "api_key")
            #expect(created["actor_id"] as? String == tenant.keyID)
            #expect(created["target_id"] as? String == keyID)
        }
    }
}
