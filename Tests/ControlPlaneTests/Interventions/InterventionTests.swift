import ControlPlane
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import TestKit
import Testing

@testable import Interventions

/// Interventions end to end on the `mock` provider: a promise in a pushed commit is watched, comes due
/// when the clock passes its day, becomes one intervention (two replicas running, one restart) sent signed
/// to the tenant's URL and to its Slack webhook, is escalated to the manager after the tenant's delay,
/// takes the outcome the receiving side reports, and shows in the acceptance rate on `/metrics` and in
/// the weekly totals.
@Suite(.timeLimit(.minutes(4))) struct InterventionTests {
    static let owner = "ada@example.test"
    /// The owner's email as their git spells it: the promise, its owner and the commit that closes it are
    /// matched whatever the case.
    static let ownerAsGitSpellsIt = "Ada@Example.TEST"
    static let manager = "grace@example.test"

    @Test func anOverduePromiseBecomesOneInterventionEscalatedAndAnswered() async throws {
        let receiver = NotificationReceiver()
        let slack = NotificationReceiver()
        try await slack.run { slackURL in
            try await receiver.run { url in
                try await Self.endToEnd(url: url, slackURL: slackURL, receiver: receiver, slack: slack)
            }
        }
    }

    static func endToEnd(
        url: String, slackURL: String, receiver: NotificationReceiver, slack: NotificationReceiver
    ) async throws {
        // The tenant, its people, its settings and an endpoint, made through an app without a worker.
        let (tenant, secret, endpoint) = try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let set = try await client.send(
                .put, "/v1/notifications", token: tenant.token,
                json: ["url": url, "events": ["intervention.created", "intervention.escalated"]])
            #expect(set.status == .ok, "\(String(buffer: set.body))")
            let secret = try #require(try set.jsonObject()["secret"] as? String)
            let people = try await client.send(
                .put, "/v1/identities", token: tenant.token,
                json: [
                    "items": [
                        [
                            "email": owner, "git_emails": [owner], "chat_handle": "U024BE7LH",
                            "manager_email": manager, "timezone": "Europe/Berlin",
                        ],
                        ["email": manager, "chat_handle": "U0MANAGER1", "timezone": "Europe/Berlin"],
                    ]
                ])
            #expect(people.status == .ok, "\(String(buffer: people.body))")
            let defaults = try await client.send(.get, "/v1/interventions/settings", token: tenant.token).jsonObject()
            #expect(defaults["tone"] as? String == "friendly")
            #expect(defaults["slack_webhook_configured"] as? Bool == false)
            let settings = try await client.send(
                .put, "/v1/interventions/settings", token: tenant.token,
                json: ["tone": "direct", "escalation_delay_seconds": 3600, "slack_webhook_url": slackURL])
            #expect(settings.status == .ok, "\(String(buffer: settings.body))")
            let shown = try settings.jsonObject()
            #expect(shown["slack_webhook_configured"] as? Bool == true)
            #expect(!String(buffer: settings.body).contains(slackURL), "the Slack URL is never answered")
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            return (tenant, secret, endpoint)
        }
        let tenantID = try #require(TenantID(string: tenant.tenantID))
        let clock = ServerClock()
        let replica: @Sendable (inout Configuration) -> Void = {
            $0.clock = clock
            $0.interventions.tenants = [tenantID]
            $0.process.pendingJobsInterval = .seconds(1)
        }

        try await TestEnvironment.withApp(worker: true, configure: replica) { first in
            // The promise, and another one that a later commit of the same author closes.
            let day = promiseDay()
            let promise = try GitHubFixtures.bytes(
                push(
                    seed: 61,
                    commits: [
                        (
                            "Quarantine the flaky test\n\nI'll fix the flaky test by Friday. "
                                + "I'll update the changelog by Friday.", "\(day)T12:00:00+00:00"
                        )
                    ], author: Self.ownerAsGitSpellsIt))
            #expect(
                try await first.deliver(endpoint.url, event: "push", body: promise, secret: endpoint.secret).status
                    == .accepted)
            let closing = try GitHubFixtures.bytes(
                push(
                    seed: 62, commits: [("Update the changelog for the release", "\(day)T12:05:00+00:00")],
                    author: Self.ownerAsGitSpellsIt))
            #expect(
                try await first.deliver(endpoint.url, event: "push", body: closing, secret: endpoint.secret).status
                    == .accepted)
            let analysed = try await waitUntil(timeout: .seconds(30)) {
                let watching = try await watched(tenant.tenantID).count
                let analysed = try await analyses(first, token: tenant.token)
                return watching == 2 && analysed == 2
            }
            #expect(analysed != nil, "both commits analysed, both dated promises watched")
            #expect(try await watched(tenant.tenantID).allSatisfy { $0.status == "watching" })
            #expect(try await list(first, token: tenant.token).isEmpty, "nothing is due before Friday has passed")

            // A second replica runs while the promise comes due.
            try await TestEnvironment.withApp(worker: true, configure: replica) { second in
                clock.advance(by: .seconds(10 * 86_400))
                let made = try await waitUntil(timeout: .seconds(30)) {
                    try await list(second, token: tenant.token).count == 1
                        && receiver.received.withLock { $0.count } >= 1 && slack.received.withLock { $0.count } >= 1
                }
                #expect(made != nil, "the intervention was made and sent")
            }
        }

        let interventions = try await watched(tenant.tenantID)
        #expect(interventions.filter { $0.status == "open" }.count == 1)
        #expect(interventions.filter { $0.status == "closed" }.count == 1, "the changelog promise was kept")

        // A restart: the intervention is not made again; after the delay the manager hears of it.
        try await TestEnvironment.withApp(worker: true, configure: replica) { client in
            let items = try await list(client, token: tenant.token)
            let item = try #require(items.first)
            let id = try #require(item["id"] as? String)
            #expect(items.count == 1)
            #expect(item["status"] as? String == "open")
            #expect(item["commitment"] as? String == "I'll fix the flaky test by Friday")
            // The person as the directory keeps emails: lowercased.
            #expect(item["person"] as? String == owner)
            #expect(item["owner_handle"] as? String == "U024BE7LH")
            #expect(item["manager_email"] as? String == manager)
            #expect(item["tone"] as? String == "direct")
            #expect(item["provider"] as? String == "mock")
            #expect((item["message"] as? String ?? "").contains("flaky test"))
            #expect((item["total_tokens"] as? Int ?? 0) > 0)

            let sent = try #require(receiver.received.withLock { $0.first })
            #expect(sent.type == "intervention.created")
            #expect(NotificationReceiver.verifies(sent, secret: secret), "signed the Standard Webhooks way")
            let event = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            let data = event["data"] as? [String: Any] ?? [:]
            #expect(data["intervention_id"] as? String == id)
            #expect((data["recipient"] as? [String: Any])?["chat_handle"] as? String == "U024BE7LH")
            let chat = try #require(slack.received.withLock { $0.first })
            #expect(chat.signature.isEmpty, "a Slack webhook is not signed")
            let text = try #require(try JSONSerialization.jsonObject(with: Data(chat.body)) as? [String: Any])
            #expect((text["text"] as? String ?? "").hasPrefix("<@U024BE7LH> "))
            #expect(text["blocks"] as? [Any] != nil)
            #expect(try await ledgerRows(tenant.tenantID, requestID: "intervention-\(id)") >= 1)

            clock.advance(by: .seconds(2 * 3600))
            let escalated = try await waitUntil(timeout: .seconds(30)) {
                let status = try await list(client, token: tenant.token).first?["status"] as? String
                return status == "escalated" && receiver.received.withLock { $0.count } >= 2
                    && slack.received.withLock { $0.count } >= 2
            }
            #expect(escalated != nil, "escalated to the manager after the delay")
            let second = try #require(receiver.received.withLock { $0.count > 1 ? $0[1] : nil })
            #expect(second.type == "intervention.escalated")
            let escalation = try #require(try JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any])
            let recipient = (escalation["data"] as? [String: Any])?["recipient"] as? [String: Any] ?? [:]
            #expect(recipient["email"] as? String == manager)
            #expect(recipient["role"] as? String == "manager")
            let managerChat = try #require(slack.received.withLock { $0.count > 1 ? $0[1] : nil })
            let managerText = try JSONSerialization.jsonObject(with: Data(managerChat.body)) as? [String: Any]
            let managerLine = managerText?["text"] as? String ?? ""
            #expect(managerLine.hasPrefix("<@U0MANAGER1> "))

            // The receiving side answers with a key that may do only that.
            let bot = try await client.createKey(token: tenant.token, scopes: ["interventions:outcome"])
            #expect(try await client.send(.get, "/v1/interventions", token: bot.token).status == .forbidden)
            let path = "/v1/interventions/\(id)/outcome"
            #expect(
                try await client.send(.post, path, token: bot.token, json: ["outcome": "maybe"]).status == .badRequest)
            #expect(
                try await client.send(
                    .post, "/v1/interventions/\(UUID().uuidString)/outcome", token: bot.token,
                    json: ["outcome": "accepted"]
                ).status == .notFound)
            let accepted = try await client.send(.post, path, token: bot.token, json: ["outcome": "accepted"])
            #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
            #expect(try accepted.jsonObject()["status"] as? String == "accepted")
            #expect(
                try await client.send(.post, path, token: bot.token, json: ["outcome": "accepted"]).status == .ok)
            #expect(
                try await client.send(.post, path, token: bot.token, json: ["outcome": "dismissed"]).status
                    == .conflict)
            let filtered = try await client.send(
                .get, "/v1/interventions?status=accepted&person=\(owner)&repository=octo-org/hello-world",
                token: tenant.token
            ).jsonObject()
            #expect((filtered["items"] as? [Any])?.count == 1)
            let none = try await client.send(.get, "/v1/interventions?status=open", token: tenant.token).jsonObject()
            #expect((none["items"] as? [Any])?.isEmpty == true)

            let rate = try await waitUntil(timeout: .seconds(20)) {
                let metrics = String(buffer: try await client.send(.get, "/metrics").body)
                return metrics.contains("intervention_acceptance_rate{tenant=\"\(tenant.tenantID)\"} 1")
            }
            #expect(rate != nil, "the acceptance rate is on /metrics")
            let to = day(clock.now())
            let from = day(clock.now().addingTimeInterval(-30 * 86_400))
            let weekly = try await client.send(
                .get, "/v1/interventions/weekly?from=\(from)&to=\(to)", token: tenant.token)
            #expect(weekly.status == .ok, "\(String(buffer: weekly.body))")
            let totals = try weekly.jsonObject()
            #expect(totals["acceptance_rate"] as? Double == 1)
            let weeks = totals["items"] as? [[String: Any]] ?? []
            #expect(weeks.count == 1)
            #expect(weeks.first?["created"] as? Int == 1)
            #expect(weeks.first?["escalated"] as? Int == 1)
            #expect(weeks.first?["accepted"] as? Int == 1)
        }
        // Made once, escalated once, whatever ran: two replicas, a restart.
        #expect(receiver.received.withLock { $0.map(\.type) } == ["intervention.created", "intervention.escalated"])
        #expect(slack.received.withLock { $0.count } == 2)
        #expect(try await watched(tenant.tenantID).filter { $0.status == "accepted" }.count == 1)
    }

    /// A suspended tenant's overdue promise waits: in the pass that pings an active tenant about the same
    /// promise, the suspended one is left alone.
    @Test func aSuspendedTenantIsNotPinged() async throws {
        let (active, suspended) = try await TestEnvironment.withApp { client in
            (try await client.signup(), try await client.signup())
        }
        let operatorToken = try await OperatorTests.operatorToken()
        let clock = ServerClock()
        let tenants = [active, suspended].compactMap { TenantID(string: $0.tenantID) }
        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.clock = clock
                $0.interventions.tenants = tenants
            }
        ) { client in
            let body = try GitHubFixtures.bytes(
                Self.push(
                    seed: 63, commits: [("I'll fix the flaky test by Friday", "\(Self.promiseDay())T12:00:00+00:00")]))
            for tenant in [active, suspended] {
                let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
                #expect(
                    try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                        == .accepted)
            }
            let watching = try await waitUntil(timeout: .seconds(30)) {
                let first = try await Self.watched(active.tenantID).count
                let second = try await Self.watched(suspended.tenantID).count
                return first == 1 && second == 1
            }
            #expect(watching != nil)
            let suspend = try await client.send(
                .patch, "/v1/admin/tenants/\(suspended.tenantID)", token: operatorToken, json: ["status": "suspended"])
            #expect(suspend.status == .ok)
            clock.advance(by: .seconds(10 * 86_400))
            let made = try await waitUntil(timeout: .seconds(30)) {
                try await Self.watched(active.tenantID).first?.status == "open"
            }
            #expect(made != nil)
            #expect(try await Self.watched(suspended.tenantID).map(\.status) == ["watching"])
        }
    }

    /// Settings are checked and the Slack URL guarded; another tenant sees none of the interventions.
    @Test func settingsAreCheckedAndTheSlackURLGuarded() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for body: [String: Any] in [
                ["slack_webhook_url": "http://10.0.0.1/services/x"],
                ["slack_webhook_url": "http://169.254.169.254/latest"],
                ["slack_webhook_url": "https://hooks.example.test/a", "remove_slack_webhook": true],
                ["escalation_delay_seconds": 59], ["tone": "rude"],
            ] {
                let refused = try await client.send(.put, "/v1/interventions/settings", token: tenant.token, json: body)
                #expect(refused.status == .badRequest, "\(body): \(refused.status)")
            }
            let set = try await client.send(
                .put, "/v1/interventions/settings", token: tenant.token,
                json: ["slack_webhook_url": "https://hooks.example.test/services/T0/B0/x", "enabled": false])
            #expect(try set.jsonObject()["slack_webhook_configured"] as? Bool == true)
            #expect(try set.jsonObject()["enabled"] as? Bool == false)
            let removed = try await client.send(
                .put, "/v1/interventions/settings", token: tenant.token, json: ["remove_slack_webhook": true])
            #expect(try removed.jsonObject()["slack_webhook_configured"] as? Bool == false)
            #expect(try removed.jsonObject()["enabled"] as? Bool == false, "a field left out keeps its value")
            let reader = try await client.createKey(token: tenant.token, scopes: ["interventions:read"])
            #expect(try await client.send(.get, "/v1/interventions/settings", token: reader.token).status == .ok)
            #expect(
                try await client.send(.put, "/v1/interventions/settings", token: reader.token, json: ["enabled": true])
                    .status == .forbidden)
            let audit = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let actions = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.filter { $0 == "interventions.settings" }.count == 2)
        }
    }

    @Test func aLaterCommitClosesAPromiseThatItNames() {
        #expect(CommitmentClosure.closes("Fix flaky test in CI", promise: "I'll fix the flaky test by Friday"))
        #expect(CommitmentClosure.closes("Fixed the flaky tests", promise: "I'll fix the flaky test by Friday"))
        #expect(!CommitmentClosure.closes("Bump dependencies", promise: "I'll fix the flaky test by Friday"))
        #expect(!CommitmentClosure.closes("Fix the login page", promise: "I'll fix the flaky test by Friday"))
        #expect(!CommitmentClosure.closes("Anything at all", promise: "I'll do it by Friday"))
    }

    /// A promise or a model's message cannot ping the channel or forge a link in Slack.
    @Test func slackMessagesEscapeWhatCameFromACommit() throws {
        let record = InterventionRecord(
            id: UUID(), analysisID: UUID(), repository: "acme/<api>", sha: "0123456789abcdef", person: nil,
            commitment: "x", dueDate: "2026-11-27", status: "open", ownerHandle: nil, managerEmail: nil, tone: nil,
            message: nil, escalationMessage: nil, provider: nil, model: nil, totalTokens: 0, createdAt: Date(),
            escalateAt: nil, escalatedAt: nil, outcomeAt: nil)
        let message = InterventionEvents.slackMessage(
            record, audience: .owner, message: "Fix <!channel> & <https://evil.test|the docs>", handle: "ada<!here>")
        let text = try #require(message["text"] as? String)
        #expect(text == "@ada&lt;!here&gt; Fix &lt;!channel&gt; &amp; &lt;https://evil.test|the docs&gt;")
        let member = InterventionEvents.slackMessage(record, audience: .manager, message: "Hi", handle: "U024BE7LH")
        #expect(member["text"] as? String == "<@U024BE7LH> Hi")
        let blocks = try #require(member["blocks"] as? [[String: Any]])
        let context = ((blocks.last?["elements"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        #expect(context.contains("acme/&lt;api&gt;") && context.hasPrefix("Escalated commitment"))
    }

    // MARK: Helpers

    /// A day on which "by Friday" lies ahead: today, or tomorrow when today is Friday (UTC).
    static func promiseDay() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let now = Date()
        return day(calendar.component(.weekday, from: now) == 6 ? now.addingTimeInterval(86_400) : now)
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = .gmt
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    /// A push of commits with these messages and timestamps.
    /// A push of `commits` to `octo-org/hello-world`, authored by `author` (an email spelled as the author's
    /// git spelled it; the fixture's own when nil).
    static func push(seed: Int, commits: [(message: String, timestamp: String)], author: String? = nil)
        -> [String: Any]
    {
        var push = GitHubFixtures.push(commits: commits.count, seed: seed)
        let made = commits.enumerated().map { index, commit in
            var made = GitHubFixtures.commit(
                seed * 100 + index, message: commit.message, repository: "octo-org/hello-world",
                timestamp: commit.timestamp)
            if let author, var person = made["author"] as? [String: Any] {
                person["email"] = author
                made["author"] = person
            }
            return made
        }
        push["commits"] = made
        push["head_commit"] = made.last
        return push
    }

    static func list(_ client: any TestClientProtocol, token: String) async throws -> [[String: Any]] {
        try await client.send(.get, "/v1/interventions", token: token).jsonObject()["items"] as? [[String: Any]] ?? []
    }

    static func analyses(_ client: any TestClientProtocol, token: String) async throws -> Int {
        let page = try await client.send(.get, "/v1/analyses?pipeline=commitments", token: token).jsonObject()
        return (page["items"] as? [Any])?.count ?? 0
    }

    /// Every row of the tenant's schedule: watched, closed and made.
    static func watched(_ tenant: String) async throws -> [(status: String, commitment: String)] {
        try await TestEnvironment.withTenantTransaction(tenant) { transaction in
            let rows = try await transaction.query(
                "SELECT status, commitment FROM interventions ORDER BY commitment_index")
            var found: [(String, String)] = []
            for try await row in rows.decode((String, String).self) { found.append(row) }
            return found.map { (status: $0.0, commitment: $0.1) }
        }
    }

    /// The ledger rows of one request id.
    static func ledgerRows(_ tenant: String, requestID: String) async throws -> Int {
        try await TestEnvironment.withTenantTransaction(tenant) { transaction in
            let rows = try await transaction.query(
                "SELECT count(*) FROM usage_records WHERE request_id = \(requestID)")
            var count: Int64 = 0
            for try await value in rows.decode(Int64.self) { count = value }
            return Int(count)
        }
    }
}
