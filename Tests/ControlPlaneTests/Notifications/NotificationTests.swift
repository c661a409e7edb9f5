import BlockingWork
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestKit
import Testing

/// A tenant's notification receiver on 127.0.0.2 (the address the tests' guard allows): it keeps every
/// request and answers 500 to the first `failures` of them, 204 to the rest.
final class NotificationReceiver: Sendable {
    struct Received: Sendable {
        let id: String
        let timestamp: String
        let signature: String
        let body: [UInt8]
        var type: String {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["type"] as? String ?? ""
        }
    }

    let received = Mutex<[Received]>([])
    let failures: Int

    init(failures: Int = 0) {
        self.failures = failures
    }

    func run<Value: Sendable>(_ body: @Sendable (String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            func header(_ name: String) -> String { request.headers[HTTPField.Name(name)!] ?? "" }
            let count = self.received.withLock { list -> Int in
                list.append(
                    Received(
                        id: header("webhook-id"), timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"), body: bytes))
                return list.count
            }
            return Response(status: count <= self.failures ? .internalServerError : .noContent)
        }
        return try await withLoopbackServer(router, host: "127.0.0.2", label: "notification-receiver") {
            try await body("http://127.0.0.2:\($0)/hook")
        }
    }

    /// Whether `message` carries a valid Standard Webhooks signature under `secret` (`whsec_...`),
    /// checked here independently of the server's code.
    static func verifies(_ message: Received, secret: String) -> Bool {
        guard let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) else { return false }
        let signed = Array("\(message.id).\(message.timestamp).".utf8) + message.body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        return message.signature.split(separator: " ").contains { $0 == "v1,\(Data(mac).base64EncodedString())" }
    }
}

@Suite(.timeLimit(.minutes(3))) struct NotificationTests {
    /// An analysis and an exhausted budget reach the tenant's URL signed the Standard Webhooks way; a
    /// 500 is retried under the same `webhook-id`, and every attempt is in the log.
    @Test func eventsAreSignedRetriedAndLogged() async throws {
        let receiver = NotificationReceiver(failures: 1)
        try await receiver.run { url in
            try await TestEnvironment.withApp(worker: true) { client in
                let tenant = try await client.signup()
                let set = try await client.send(
                    .put, "/v1/notifications", token: tenant.token,
                    json: ["url": url, "events": ["analysis.completed", "budget.exhausted"]])
                #expect(set.status == .ok, "\(String(buffer: set.body))")
                let secret = try #require(try set.jsonObject()["secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                let read = try await client.send(.get, "/v1/notifications", token: tenant.token).jsonObject()
                #expect(read["secret"] == nil)
                #expect(read["events"] as? [String] == ["analysis.completed", "budget.exhausted"])

                let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
                let body = try GitHubFixtures.bytes(
                    GitHubFixtures.push(
                        commits: 1, seed: 91, messages: ["Ship the notifier; I will add docs by Monday"]))
                #expect(
                    try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                        == .accepted)
                let arrived = try await waitUntil(timeout: .seconds(20)) {
                    receiver.received.withLock { $0.count } >= 2
                }
                #expect(arrived != nil)
                let messages = receiver.received.withLock { $0 }
                #expect(messages.count == 2, "one failed attempt, one delivered")
                #expect(Set(messages.map(\.id)).count == 1, "a retry keeps its webhook-id")
                #expect(messages.allSatisfy { NotificationReceiver.verifies($0, secret: secret) })
                #expect(!NotificationReceiver.verifies(messages[0], secret: NotificationReceiverSecrets.other))
                let event = try #require(
                    try JSONSerialization.jsonObject(with: Data(messages[0].body)) as? [String: Any])
                #expect(event["type"] as? String == "analysis.completed")
                let data = event["data"] as? [String: Any] ?? [:]
                #expect(data["sha"] as? String == GitHubFixtures.sha(9100))
                #expect(data["pipeline"] as? String == "commitments")
                #expect(abs((Double(messages[1].timestamp) ?? 0) - Date().timeIntervalSince1970) < 60)

                let logged = try await waitUntil(timeout: .seconds(5)) {
                    let page = try await client.send(.get, "/v1/notifications", token: tenant.token).jsonObject()
                    return (page["attempts"] as? [[String: Any]] ?? []).count == 2
                }
                #expect(logged != nil)
                let log = try await client.send(.get, "/v1/notifications", token: tenant.token).jsonObject()
                let attempts = log["attempts"] as? [[String: Any]] ?? []
                #expect(attempts.map { $0["status_code"] as? Int } == [204, 500])
                #expect(attempts.map { $0["outcome"] as? String } == ["delivered", "retrying"])
                #expect(log["pending"] as? Int == 0)

                // A budget too small for any call: the refusal records `budget.exhausted`, sent once.
                let budget = try await client.send(
                    .put, "/v1/budget", token: tenant.token, json: ["period": "month", "token_limit": 1])
                #expect(budget.status == .ok)
                for _ in 0..<2 {
                    let refused = try await client.send(
                        .post, "/v1/llm/chat/completions", token: tenant.token,
                        json: ["model": "auto", "messages": [["role": "user", "content": "hi"]]])
                    #expect(refused.status == .tooManyRequests)
                }
                let exhausted = try await waitUntil(timeout: .seconds(10)) {
                    receiver.received.withLock { $0.contains { $0.type == "budget.exhausted" } }
                }
                #expect(exhausted != nil)
                try await Pause.for(.milliseconds(300))
                #expect(receiver.received.withLock { $0.filter { $0.type == "budget.exhausted" }.count } == 1)
            }
        }
    }

    /// The URL passes the address guard; the secret is shown when made or rotated and never otherwise;
    /// another tenant sees no settings.
    @Test func settingsAreGuardedAndTheSecretShownOnce() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.signup()
            #expect(try await client.send(.get, "/v1/notifications", token: tenant.token).status == .notFound)
            for url in [
                "http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.0.0.1/hook",
                "http://localhost/x",
                "http://[::1]/x", "https://user:pass@example.test/x", "ftp://example.test/x",
            ] {
                let refused = try await client.send(.put, "/v1/notifications", token: tenant.token, json: ["url": url])
                #expect(refused.status == .badRequest, "\(url): \(refused.status)")
            }
            let twice = try await client.send(
                .put, "/v1/notifications", token: tenant.token,
                json: ["url": "https://hooks.example.test/in", "events": ["job.dead_lettered", "job.dead_lettered"]])
            #expect(twice.status == .badRequest)
            let made = try await client.send(
                .put, "/v1/notifications", token: tenant.token, json: ["url": "https://hooks.example.test/in"])
            #expect(made.status == .ok)
            let first = try #require(try made.jsonObject()["secret"] as? String)
            #expect(
                try made.jsonObject()["events"] as? [String] == [
                    "analysis.completed", "budget.exhausted", "budget.threshold_crossed", "intervention.created",
                    "intervention.escalated", "invitation.created", "job.dead_lettered",
                ])
            let changed = try await client.send(
                .put, "/v1/notifications", token: tenant.token,
                json: ["url": "https://hooks.example.test/other", "active": false])
            #expect(try changed.jsonObject()["secret"] == nil)
            #expect(try changed.jsonObject()["active"] as? Bool == false)
            let rotated = try await client.send(
                .put, "/v1/notifications", token: tenant.token,
                json: ["url": "https://hooks.example.test/other", "rotate_secret": true])
            let second = try #require(try rotated.jsonObject()["secret"] as? String)
            #expect(second != first && second.hasPrefix("whsec_"))
            #expect(try await client.send(.get, "/v1/notifications", token: other.token).status == .notFound)
            let reader = try await client.createKey(token: tenant.token, scopes: ["webhooks:read"])
            #expect(
                try await client.send(.put, "/v1/notifications", token: reader.token, json: ["url": "https://a.test/"])
                    .status == .forbidden)
            #expect(try await client.send(.get, "/v1/notifications", token: reader.token).status == .ok)
        }
    }
}

/// A secret that signed nothing here.
enum NotificationReceiverSecrets {
    static let other = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()
}
