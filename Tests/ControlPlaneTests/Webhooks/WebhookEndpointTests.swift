import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import Testing

@Suite(.timeLimit(.minutes(3))) struct WebhookEndpointTests {
    /// Create, read, list, change and delete; the secret appears only in the answers of create and rotate.
    @Test func endpointsAreManagedAndTheirSecretIsShownOnce() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let created = try await client.send(
                .post, "/v1/webhooks", token: tenant.token,
                json: ["provider": "github", "pipelines": ["security_review", "commitments"], "repositories": ["o/r"]])
            #expect(created.status == .created)
            let object = try created.jsonObject()
            let id = try #require(object["id"] as? String)
            #expect(object["pipelines"] as? [String] == ["commitments", "security_review"])
            #expect(object["active"] as? Bool == true && object["repositories"] as? [String] == ["o/r"])

            let read = try await client.send(.get, "/v1/webhooks/\(id)", token: tenant.token)
            let readBack = try read.jsonObject()
            #expect(read.status == .ok && readBack["secret"] == nil)
            let list = try await client.send(.get, "/v1/webhooks", token: tenant.token)
            let items = try list.jsonObject()["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["id"] as? String } == [id] && items.allSatisfy { $0["secret"] == nil })
            #expect(!String(buffer: list.body).contains(object["secret"] as? String ?? "-"))

            let patched = try await client.send(
                .patch, "/v1/webhooks/\(id)", token: tenant.token,
                json: ["pipelines": ["change_summary"], "repositories": []])
            let changed = try patched.jsonObject()
            #expect(
                changed["pipelines"] as? [String] == ["change_summary"]
                    && (changed["repositories"] as? [String])?.isEmpty == true)

            let audit = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let actions = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.contains("webhook.create") && actions.contains("webhook.update"))

            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", token: tenant.token).status == .noContent)
            try await client.send(.get, "/v1/webhooks/\(id)", token: tenant.token).expectProblem(404, "not_found")
            try await client.send(.delete, "/v1/webhooks/\(id)", token: tenant.token).expectProblem(404, "not_found")

            // Another tenant sees none of it.
            let other = try await client.signup()
            let mine = try await client.createEndpoint(token: tenant.token)
            try await client.send(.get, "/v1/webhooks/\(mine.id)", token: other.token).expectProblem(404, "not_found")
            try await client.send(.patch, "/v1/webhooks/\(mine.id)", token: other.token, json: ["active": false])
                .expectProblem(404, "not_found")
            try await client.send(.post, "/v1/webhooks/\(mine.id)/rotate-secret", token: other.token, json: [:])
                .expectProblem(404, "not_found")
        }
    }

    @Test func badEndpointRequestsAreRefused() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let bodies: [[String: Any]] = [
                ["provider": "github", "pipelines": []],
                ["provider": "github", "pipelines": ["commitments", "commitments"]],
                ["provider": "github", "pipelines": ["nope"]],
                ["provider": "gitlab", "pipelines": ["commitments"]],
                ["pipelines": ["commitments"]],
                ["provider": "github", "pipelines": ["commitments"], "repositories": ["no-slash"]],
                ["provider": "github", "pipelines": ["commitments"], "repositories": ["a/b", "a/b"]],
                ["provider": "github", "pipelines": ["commitments"], "repositories": ["a/b/c"]],
                ["provider": "github", "pipelines": ["commitments"], "extra": 1],
            ]
            for body in bodies {
                try await client.send(.post, "/v1/webhooks", token: tenant.token, json: body).expectProblem(
                    400, "invalid_request")
            }
            let endpoint = try await client.createEndpoint(token: tenant.token)
            try await client.send(
                .post, "/v1/webhooks/\(endpoint.id)/rotate-secret", token: tenant.token,
                json: ["grace_seconds": 604_801]
            ).expectProblem(400, "invalid_request")
            let reader = try await client.createKey(token: tenant.token, scopes: ["webhooks:read"])
            try await client.send(
                .post, "/v1/webhooks", token: reader.token, json: ["provider": "github", "pipelines": ["commitments"]]
            ).expectProblem(403, "forbidden")
            #expect(try await client.send(.get, "/v1/webhooks", token: reader.token).status == .ok)
        }
    }

    /// After a rotation both secrets verify during the grace period; with no grace only the new one does.
    @Test func aRotatedSecretKeepsTheOldOneForItsGracePeriod() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            let body = try GitHubFixtures.bytes(GitHubFixtures.ping())
            let rotated = try await client.send(
                .post, "/v1/webhooks/\(endpoint.id)/rotate-secret", token: tenant.token, json: ["grace_seconds": 600])
            #expect(rotated.status == .ok)
            let first = try rotated.jsonObject()
            let newSecret = try #require(first["secret"] as? String)
            #expect(newSecret != endpoint.secret && first["previous_secret_expires_at"] is String)
            #expect(
                try await client.deliver(endpoint.url, event: "ping", body: body, secret: endpoint.secret).status == .ok
            )
            #expect(try await client.deliver(endpoint.url, event: "ping", body: body, secret: newSecret).status == .ok)

            // With no body at all the default grace period (a day) applies.
            let bare = try await client.send(.post, "/v1/webhooks/\(endpoint.id)/rotate-secret", token: tenant.token)
            #expect(bare.status == .ok, "\(String(buffer: bare.body))")
            let again = try await client.send(
                .post, "/v1/webhooks/\(endpoint.id)/rotate-secret", token: tenant.token, json: ["grace_seconds": 0])
            let latest = try #require(try again.jsonObject()["secret"] as? String)
            try await client.deliver(endpoint.url, event: "ping", body: body, secret: newSecret)
                .expectProblem(401, "signature_invalid")
            try await client.deliver(endpoint.url, event: "ping", body: body, secret: endpoint.secret)
                .expectProblem(401, "signature_invalid")
            #expect(try await client.deliver(endpoint.url, event: "ping", body: body, secret: latest).status == .ok)
        }
    }
}
