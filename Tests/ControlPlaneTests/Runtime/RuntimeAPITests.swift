import Foundation
import HTTPTypes
import HummingbirdTesting
import Runtime
import TestKit
import Testing

/// The runtime's own API beyond jobs and analyses: replaying a delivery, the identities directory, a
/// policy's repository overrides, and the runtime's metrics.
@Suite(.timeLimit(.minutes(3))) struct RuntimeAPITests {
    /// A delivery ignored because its repository was not allowed runs once the endpoint allows it; a
    /// replay is refused while its jobs are open, for a ping, after the endpoint is gone, and for another
    /// tenant's delivery.
    @Test func aDeliveryReplaysAsItsEndpointIsConfiguredNow() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.signup()
            let endpoint = try await client.createEndpoint(
                token: tenant.token, pipelines: ["commitments", "change_summary"], repositories: ["octo-org/else"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 61))
            let first = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
            #expect(first.status == .ok)
            let receipt = try first.jsonObject()
            #expect(receipt["status"] as? String == "ignored")
            let deliveryID = try #require(receipt["delivery_id"] as? String)

            let notAllowed = try await client.send(.post, "/v1/deliveries/\(deliveryID)/replay", token: tenant.token)
            #expect(notAllowed.status == .conflict)
            #expect(String(buffer: notAllowed.body).contains("allow-list"))

            let patched = try await client.send(
                .patch, "/v1/webhooks/\(endpoint.id)", token: tenant.token,
                json: ["repositories": ["Octo-Org/Hello-World"]])
            #expect(patched.status == .ok)
            let replayed = try await client.send(.post, "/v1/deliveries/\(deliveryID)/replay", token: tenant.token)
            #expect(replayed.status == .accepted, "\(String(buffer: replayed.body))")
            let jobIDs = try replayed.jsonObject()["job_ids"] as? [String] ?? []
            #expect(jobIDs.count == 2)
            let delivery = try await client.send(.get, "/v1/deliveries/\(deliveryID)", token: tenant.token).jsonObject()
            #expect(["accepted", "enqueued"].contains(delivery["status"] as? String ?? ""))
            #expect(Set(delivery["job_ids"] as? [String] ?? []) == Set(jobIDs))
            #expect(delivery["reason"] == nil)

            // No worker runs here, so the jobs are still queued.
            let open = try await client.send(.post, "/v1/deliveries/\(deliveryID)/replay", token: tenant.token)
            #expect(open.status == .conflict)
            #expect(String(buffer: open.body).contains("still queued or running"))

            let ping = try await client.deliver(
                endpoint.url, event: "ping", body: try GitHubFixtures.bytes(GitHubFixtures.ping()),
                secret: endpoint.secret)
            let pingID = try #require(try ping.jsonObject()["delivery_id"] as? String)
            #expect(
                try await client.send(.post, "/v1/deliveries/\(pingID)/replay", token: tenant.token).status
                    == .conflict)
            #expect(
                try await client.send(.post, "/v1/deliveries/\(pingID)/replay", token: other.token).status
                    == .notFound)
            #expect(
                try await client.send(.post, "/v1/deliveries/\(UUID().uuidString)/replay", token: tenant.token).status
                    == .notFound)
            #expect(
                try await client.send(.post, "/v1/deliveries/not-a-uuid/replay", token: tenant.token).status
                    == .notFound)

            #expect(
                try await client.send(.delete, "/v1/webhooks/\(endpoint.id)", token: tenant.token).status == .noContent)
            let gone = try await client.send(.post, "/v1/deliveries/\(pingID)/replay", token: tenant.token)
            #expect(gone.status == .conflict)
            #expect(String(buffer: gone.body).contains("deleted"))

            let reader = try await client.createKey(token: tenant.token, scopes: ["webhooks:read"])
            #expect(
                try await client.send(.post, "/v1/deliveries/\(deliveryID)/replay", token: reader.token).status
                    == .forbidden)
        }
    }

    static func person(_ index: Int, handle: String? = nil) -> [String: Any] {
        [
            "email": "person\(index)@corp.test", "git_emails": ["p\(index)@users.example.test", "P\(index)@home.test"],
            "chat_handle": handle ?? "U\(index)", "manager_email": "boss@corp.test", "timezone": "Europe/Berlin",
        ]
    }

    /// Thousands of people in one call, then the same again (nothing changes), one changed, a call that
    /// would give one git email to two people (refused whole), a directory that names fewer (the rest
    /// deleted), lookups by git email, paging, bad items and another tenant's view.
    @Test func identitiesAreWrittenInBulkAllOrNothing() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let other = try await client.signup()
            let everyone = (0..<3000).map { Self.person($0) }
            let created = try await client.send(.put, "/v1/identities", token: tenant.token, json: ["items": everyone])
            #expect(created.status == .ok, "\(String(buffer: created.body))")
            let counts = try created.jsonObject()
            #expect(counts["created"] as? Int == 3000)
            #expect(counts["total"] as? Int == 3000)

            let again = try await client.send(.put, "/v1/identities", token: tenant.token, json: ["items": everyone])
            #expect(try again.jsonObject()["unchanged"] as? Int == 3000)

            var changed = everyone
            changed[7] = Self.person(7, handle: "U-NEW")
            let one = try await client.send(.put, "/v1/identities", token: tenant.token, json: ["items": changed])
            #expect(try one.jsonObject()["updated"] as? Int == 1)
            #expect(try one.jsonObject()["unchanged"] as? Int == 2999)

            let found = try await client.send(.get, "/v1/identities?email=P7@USERS.example.test", token: tenant.token)
            let items = try found.jsonObject()["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(items.first?["email"] as? String == "person7@corp.test")
            #expect(items.first?["chat_handle"] as? String == "U-NEW")
            #expect(items.first?["git_emails"] as? [String] == ["p7@users.example.test", "p7@home.test"])

            // person9's git email given to a newcomer: refused, and the newcomer was not written either.
            let clash = try await client.send(
                .put, "/v1/identities", token: tenant.token,
                json: ["items": [["email": "new@corp.test", "git_emails": ["p9@home.test"]]]])
            #expect(clash.status == .conflict, "\(String(buffer: clash.body))")
            #expect(String(buffer: clash.body).contains("p9@home.test"))
            let newcomer = try await client.send(.get, "/v1/identities?email=new@corp.test", token: tenant.token)
            #expect((try newcomer.jsonObject()["items"] as? [Any])?.isEmpty == true)

            // Pages of 100, by email, each once.
            var seen = Set<String>()
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.send(.get, "/v1/identities?limit=100\(query)", token: tenant.token)
                let object = try page.jsonObject()
                for item in object["items"] as? [[String: Any]] ?? [] { seen.insert(item["email"] as? String ?? "") }
                cursor = object["next_cursor"] as? String
            } while cursor != nil && seen.count < 5000
            #expect(seen.count == 3000)

            let bad: [([String: Any], String)] = [
                (["items": [["email": "a@corp.test"], ["email": "A@corp.test"]]], "earlier item"),
                (["items": [["email": "a@corp.test", "timezone": "Mars/Olympus"]]], "timezone"),
                (["items": [["email": "a@corp.test", "git_emails": (0..<21).map { "g\($0)@corp.test" }]]], "20"),
                (["items": [["email": "not-an-email"]]], "email"),
                (["items": [["email": "a@corp.test", "chat_handle": "two words"]]], "chat_handle"),
                (["items": (0...10_000).map { ["email": "x\($0)@corp.test"] }], "10000"),
            ]
            for (json, words) in bad {
                let refused = try await client.send(.put, "/v1/identities", token: tenant.token, json: json)
                #expect(refused.status == .badRequest, "\(words): \(String(buffer: refused.body).prefix(300))")
                #expect(String(buffer: refused.body).contains(words))
            }

            #expect(
                (try await client.send(.get, "/v1/identities", token: other.token).jsonObject()["items"] as? [Any])?
                    .isEmpty == true)
            let reader = try await client.createKey(token: tenant.token, scopes: ["tenant:read"])
            #expect(
                try await client.send(.put, "/v1/identities", token: reader.token, json: ["items": []]).status
                    == .forbidden)

            let trimmed = try await client.send(
                .put, "/v1/identities", token: tenant.token,
                json: ["items": [Self.person(1), Self.person(2)], "delete_missing": true])
            #expect(try trimmed.jsonObject()["deleted"] as? Int == 2998)
            #expect(try trimmed.jsonObject()["total"] as? Int == 2)
        }
    }

    /// Jobs on a repository the policy overrides run on the override's route (`mock`); the same tenant's
    /// other repositories keep the tenant's routes (here an `openai` with no credential, so they fail).
    @Test func aRepositoryOverrideRoutesItsJobs() async throws {
        try await TestEnvironment.withApp(worker: true) { client in
            let tenant = try await client.signup()
            let openai =
                ["provider": "openai", "model": "gpt-4o-mini", "max_tokens": 512, "timeout_ms": 2000] as [String: Any]
            let mock = ["provider": "mock", "model": "mock-1", "max_tokens": 512, "timeout_ms": 2000] as [String: Any]
            let policy: [String: Any] = [
                "routes": ["default": [openai]], "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10_000,
                "cache": ["enabled": false, "ttl_seconds": 600],
                "repository_overrides": [
                    ["repository": "octo-org/*", "routes": ["default": [mock]]]
                ],
            ]
            let set = try await client.send(.put, "/v1/policy", token: tenant.token, json: policy)
            #expect(set.status == .ok, "\(String(buffer: set.body))")
            let read = try await client.send(.get, "/v1/policy", token: tenant.token).jsonObject()
            let overrides = (read["policy"] as? [String: Any])?["repository_overrides"] as? [[String: Any]]
            #expect(overrides?.first?["repository"] as? String == "octo-org/*")

            var wrong = policy
            wrong["repository_overrides"] = [["repository": "*/everything", "routes": ["default": [mock]]]]
            #expect(try await client.send(.put, "/v1/policy", token: tenant.token, json: wrong).status == .badRequest)

            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let overridden = try GitHubFixtures.bytes(
                GitHubFixtures.push(repository: "Octo-Org/lab", commits: 1, seed: 71))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: overridden, secret: endpoint.secret).status
                    == .accepted)
            _ = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: 1)
            let analyses = try await Runtime.analyses(client, tenant)
            #expect(analyses.count == 1)
            #expect(analyses.first?["provider"] as? String == "mock")

            let plain = try GitHubFixtures.bytes(
                GitHubFixtures.push(
                    repository: "elsewhere/app", commits: 1, seed: 72,
                    messages: ["Move the billing module (a message not seen before, so nothing is reused)"]))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: plain, secret: endpoint.secret).status
                    == .accepted)
            let failedOver = try await waitUntil(timeout: .seconds(20)) {
                let page = try await client.send(.get, "/v1/jobs?limit=10", token: tenant.token).jsonObject()
                let jobs = page["items"] as? [[String: Any]] ?? []
                return jobs.contains {
                    $0["repository"] as? String == "elsewhere/app"
                        && ($0["last_error"] as? String)?.contains("openai") == true
                }
            }
            #expect(failedOver != nil, "the job outside the override went to the tenant's openai route")
            #expect(try await Runtime.analyses(client, tenant).count == 1)
        }
    }

    static let nearMessages = [
        "Add the retry queue for webhook deliveries, with backoff and a dead letter list; I will add tests by Friday and document the relay next week",
        "Add the retry queue for webhook deliveries, with backoff and a dead letter list; I will add tests by Friday and document the relay next week.",
    ]

    /// With `near_duplicates` on, a commit message a few SimHash bits from one the tenant committed before
    /// reuses that result at no cost; with it off (another tenant), the same pair is asked twice.
    @Test func nearDuplicateMessagesReuseTheEarlierResultWhenThePolicySaysSo() async throws {
        let distance = (CommitMessage(Self.nearMessages[0]).simhash ^ CommitMessage(Self.nearMessages[1]).simhash)
            .nonzeroBitCount
        #expect(distance > 0 && distance <= 3, "the messages must differ, a little: \(distance) bits")
        try await TestEnvironment.withApp(worker: true) { client in
            for nearDuplicates in [true, false] {
                let tenant = try await client.signup()
                let mock =
                    ["provider": "mock", "model": "mock-1", "max_tokens": 512, "timeout_ms": 2000] as [String: Any]
                var policy: [String: Any] = [
                    "routes": ["default": [mock]], "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10_000,
                    "cache": ["enabled": false, "ttl_seconds": 600],
                ]
                if nearDuplicates { policy["near_duplicates"] = ["enabled": true, "max_distance": 3] }
                let set = try await client.send(.put, "/v1/policy", token: tenant.token, json: policy)
                #expect(set.status == .ok, "\(String(buffer: set.body))")
                let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
                for (index, message) in Self.nearMessages.enumerated() {
                    let body = try GitHubFixtures.bytes(
                        GitHubFixtures.push(commits: 1, seed: 95 + index, messages: [message]))
                    #expect(
                        try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
                            .status == .accepted)
                    _ = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: index + 1)
                }
                let second = try #require(
                    try await Runtime.analyses(client, tenant).first {
                        $0["sha"] as? String == GitHubFixtures.sha(9600)
                    })
                #expect(second["reused"] as? Bool == nearDuplicates, "near_duplicates \(nearDuplicates)")
                #expect((second["total_tokens"] as? Int ?? -1 == 0) == nearDuplicates)
                #expect(try await Runtime.usageRows(tenant) == (nearDuplicates ? 1 : 2))
            }
        }
    }

    /// `/metrics` shows each tenant's waiting jobs (counted in Postgres) and its billed tokens by pipeline.
    @Test func metricsShowPendingJobsAndTokensByTenant() async throws {
        try await TestEnvironment.withApp(configure: { $0.process.pendingJobsInterval = .milliseconds(200) }) {
            client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 81))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                    == .accepted)
            let chat = try await client.send(
                .post, "/v1/llm/chat/completions", token: tenant.token,
                json: ["model": "auto", "messages": [["role": "user", "content": "hello there"]]])
            #expect(chat.status == .ok)
            let pending = "background_jobs_pending{tenant=\"\(tenant.tenantID)\"}"
            let tokens = "ai_token_usage_total{tenant=\"\(tenant.tenantID)\",pipeline=\"chat\"}"
            let shown = try await waitUntil(timeout: .seconds(10)) {
                let text = String(buffer: try await client.send(.get, "/metrics").body)
                return Self.value(pending, in: text) == 3 && (Self.value(tokens, in: text) ?? 0) > 0
            }
            let text = String(buffer: try await client.send(.get, "/metrics").body)
            #expect(shown != nil, "\(text.split(separator: "\n").filter { $0.contains(tenant.tenantID) })")
            // The budget's use next to its soft limit (80 % by default), counted in Postgres.
            let used = "controlplane_budget_used_ratio{tenant=\"\(tenant.tenantID)\"}"
            let budgetShown = try await waitUntil(timeout: .seconds(10)) {
                let text = String(buffer: try await client.send(.get, "/metrics").body)
                return (Self.value(used, in: text) ?? 0) > 0
            }
            #expect(budgetShown != nil, "no \(used)")
            let later = String(buffer: try await client.send(.get, "/metrics").body)
            #expect(
                Self.value("controlplane_budget_soft_limit_ratio{tenant=\"\(tenant.tenantID)\"}", in: later) == 0.8)
            // This process's pool and its revocation listener, read at the scrape.
            #expect(Self.value("controlplane_db_pool_connections_max", in: later) ?? 0 >= 1)
            #expect(Self.value("controlplane_db_pool_connections_in_use", in: later) != nil)
            let age = Self.value("controlplane_invalidation_heartbeat_age_seconds", in: later)
            #expect(age != nil && age! < 5, "heartbeat age \(age ?? -1)")
        }
    }

    /// The value of the sample `series` (name and labels as printed) in a Prometheus text page.
    static func value(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
