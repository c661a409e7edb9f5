import Foundation
import HummingbirdTesting
import Testing

/// JSON answers write `/` as it is: `"acme/api"` and `"/v1/hooks/github/..."`, never `"acme\/api"`.
/// JSON allows either; people read these answers, and every client decodes both alike.
@Suite(.timeLimit(.minutes(2))) struct UnescapedSlashTests {
    @Test func answersWriteSlashesAsTheyAre() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let created = try await client.send(
                .post, "/v1/webhooks", token: tenant.token,
                json: ["provider": "github", "pipelines": ["commitments"], "repositories": ["acme/api"]])
            #expect(created.status == .created)
            let endpoint = try created.jsonObject()
            let url = try #require(endpoint["url"] as? String)
            #expect(url.hasPrefix("/v1/hooks/github/"))
            let secret = try #require(endpoint["secret"] as? String)

            let push = GitHubFixtures.push(repository: "acme/api", commits: 1)
            let delivered = try await client.deliver(
                url, event: "push", body: Array(try JSONSerialization.data(withJSONObject: push)), secret: secret)
            #expect(delivered.status == .accepted, "\(String(buffer: delivered.body))")

            let answers = [
                ("create endpoint", created),
                ("list endpoints", try await client.send(.get, "/v1/webhooks", token: tenant.token)),
                ("list deliveries", try await client.send(.get, "/v1/deliveries", token: tenant.token)),
                ("a delivery", delivered),
                ("a problem", try await client.send(.get, "/v1/webhooks/\(UUID())", token: tenant.token)),
            ]
            for (name, answer) in answers {
                let text = String(buffer: answer.body)
                #expect(!text.contains(#"\/"#), "\(name) escapes slashes: \(text)")
            }
            #expect(String(buffer: answers[0].1.body).contains("\"\(url)"))
            #expect(String(buffer: answers[1].1.body).contains(#""acme/api""#))
            #expect(String(buffer: answers[2].1.body).contains(#""acme/api""#))
        }
    }

    /// The gateway's answer too (OpenAI's own answers write `/` as it is), here naming a model whose name
    /// has one, as OpenRouter-style names do.
    @Test func gatewayAnswersWriteSlashesAsTheyAre() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            try await TestEnvironment.withApp(configure: Gateway.configure(port: port)) { client in
                let tenant = try await client.signup()
                try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "meta/llama")])
                let answer = try await Gateway.chat(client, tenant)
                let text = String(buffer: answer.body)
                #expect(answer.status == .ok, "\(text)")
                #expect(!text.contains(#"\/"#), "\(text)")
                #expect(text.contains(#""model":"meta/llama""#), "\(text)")
            }
        }
    }
}
