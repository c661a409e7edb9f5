import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import PostgresNIO
import RedisClient
import Testing
import Webhooks

@Suite(.timeLimit(.minutes(3))) struct WebhookIngestTests {
    /// Each real delivery shape leads to exactly the expected jobs: one per enabled pipeline for a push
    /// with commits, none for the rest, which are recorded as ignored.
    @Test func eachDeliveryShapeMakesExactlyTheExpectedJobs() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            #expect(endpoint.secret.count == 64 && endpoint.url == "/v1/hooks/github/\(endpoint.id)")
            let cases: [(name: String, event: String, body: [String: Any], jobs: Int, status: String)] = [
                ("ping", "ping", GitHubFixtures.ping(), 0, "ignored"),
                ("push, one commit", "push", GitHubFixtures.push(commits: 1, seed: 1), 3, "accepted"),
                ("push, many commits", "push", GitHubFixtures.push(commits: 20, seed: 2), 3, "accepted"),
                (
                    "merge", "push",
                    GitHubFixtures.push(
                        commits: 2, seed: 3, messages: ["Add cache", "Merge pull request #7 from ada/cache"]),
                    3, "accepted"
                ),
                ("forced push", "push", GitHubFixtures.push(commits: 1, seed: 4, forced: true), 3, "accepted"),
                (
                    "branch created with commits", "push",
                    GitHubFixtures.push(ref: "refs/heads/feature", commits: 2, seed: 5, created: true), 3, "accepted"
                ),
                (
                    "branch created without commits", "push",
                    GitHubFixtures.push(ref: "refs/heads/empty", commits: 0, seed: 6, created: true), 0, "ignored"
                ),
                (
                    "branch deleted", "push",
                    GitHubFixtures.push(ref: "refs/heads/feature", commits: 0, seed: 7, deleted: true), 0, "ignored"
                ),
                (
                    "tag deleted", "push",
                    GitHubFixtures.push(ref: "refs/tags/v1.0", commits: 0, seed: 8, deleted: true),
                    0, "ignored"
                ),
                ("pull request", "pull_request", GitHubFixtures.pullRequest(), 0, "ignored"),
            ]
            for item in cases {
                let response = try await client.deliver(
                    endpoint.url, event: item.event, body: try GitHubFixtures.bytes(item.body), secret: endpoint.secret)
                #expect(response.status == (item.jobs > 0 ? .accepted : .ok), "\(item.name): \(response.status)")
                let receipt = try response.jsonObject()
                #expect((receipt["job_ids"] as? [String])?.count == item.jobs, "\(item.name)")
                let id = try #require(receipt["delivery_id"] as? String)
                let delivery = try await client.send(.get, "/v1/deliveries/\(id)", token: tenant.token).jsonObject()
                #expect(delivery["event"] as? String == item.event, "\(item.name)")
                #expect((delivery["job_ids"] as? [String])?.count == item.jobs, "\(item.name)")
                let status = delivery["status"] as? String
                #expect(
                    status == item.status || (item.status == "accepted" && ["enqueued", "processed"].contains(status)),
                    "\(item.name): \(status ?? "-")")
            }
            // The form-encoded content type GitHub offers works the same.
            let json = String(
                decoding: try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 9)), as: UTF8.self)
            let form = "payload=" + (json.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let formResponse = try await client.deliver(
                endpoint.url, event: "push", body: Array(form.utf8), secret: endpoint.secret,
                contentType: "application/x-www-form-urlencoded")
            #expect(formResponse.status == .accepted)
            #expect((try formResponse.jsonObject()["job_ids"] as? [String])?.count == 3)

            let pushes = try await client.send(.get, "/v1/deliveries?event=push&status=ignored", token: tenant.token)
                .jsonObject()
            #expect((pushes["items"] as? [[String: Any]])?.count == 3)
            let byRepository = try await client.send(
                .get, "/v1/deliveries?repository=OCTO-ORG/Hello-World&limit=100", token: tenant.token
            ).jsonObject()
            #expect((byRepository["items"] as? [[String: Any]])?.count == cases.count + 1)
        }
    }

    /// A large push (parsed off the cooperative executor) is read like a small one: its jobs are made and
    /// its body is kept byte for byte.
    @Test func aLargePushIsReadWhole() async throws {
        try await TestEnvironment.withApp(.live, configure: { $0.http.webhookMaxBodyBytes = 4 << 20 }) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1_500, seed: 77))
            #expect(body.count > WebhookIngest.parsedInPlaceBytes)
            let response = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
            #expect(response.status == .accepted, "\(String(buffer: response.body).prefix(300))")
            let receipt = try response.jsonObject()
            #expect((receipt["job_ids"] as? [String])?.count == 1)
            let id = try #require(receipt["delivery_id"] as? String)
            let delivery = try await client.send(.get, "/v1/deliveries/\(id)", token: tenant.token).jsonObject()
            #expect(delivery["status"] as? String == "accepted" || delivery["status"] as? String == "enqueued")
        }
    }

    /// Every way a signature can be wrong is refused alike, and nothing is recorded.
    @Test func wrongSignaturesAreRefusedWithNoDeliveryAndNoJob() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token)
            let other = try await client.createEndpoint(token: tenant.token)
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 2, seed: 11))
            let valid = WebhookSignature.header(for: body, secret: Array(endpoint.secret.utf8))
            var changed = body
            changed[changed.count / 2] ^= 0x01
            let reindented = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 2, seed: 11), pretty: true)
            let sha1 = "sha1=" + String(repeating: "ab", count: 20)
            let attempts: [(String, [UInt8], String?)] = [
                ("wrong signature", body, "sha256=" + String(repeating: "0", count: 64)),
                (
                    "another endpoint's secret", body,
                    WebhookSignature.header(for: body, secret: Array(other.secret.utf8))
                ),
                ("a body changed by one byte", changed, valid),
                ("a re-indented body with the original signature", reindented, valid),
                ("sha1= only", body, sha1),
                ("no signature header", body, nil),
            ]
            for (name, bytes, signature) in attempts {
                let response = try await client.deliver(
                    endpoint.url, event: "push", body: bytes, secret: nil, signature: signature)
                try response.expectProblem(401, "signature_invalid")
                #expect(!String(buffer: response.body).contains(endpoint.id), "\(name)")
            }
            let list = try await client.send(.get, "/v1/deliveries", token: tenant.token).jsonObject()
            #expect((list["items"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await jobCount(tenant) == 0)
            // The valid signature still goes through after all that.
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                    == .accepted)
        }
    }

    /// Unknown, malformed, inactive and deleted endpoints and a suspended tenant answer exactly as a bad
    /// signature does.
    @Test func endpointsThatCannotReceiveAnswerLikeABadSignature() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let inactive = try await client.createEndpoint(token: tenant.token, active: false)
            let deleted = try await client.createEndpoint(token: tenant.token)
            #expect(
                try await client.send(.delete, "/v1/webhooks/\(deleted.id)", token: tenant.token).status == .noContent)
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 12))
            for (url, secret) in [
                (inactive.url, inactive.secret), (deleted.url, deleted.secret),
                ("/v1/hooks/github/\(UUID().uuidString.lowercased())", "x"), ("/v1/hooks/github/not-a-uuid", "x"),
            ] {
                try await client.deliver(url, event: "push", body: body, secret: secret).expectProblem(
                    401, "signature_invalid")
            }
            let suspendedTenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: suspendedTenant.token)
            let suspended = try await client.send(
                .patch, "/v1/admin/tenants/\(suspendedTenant.tenantID)", token: try await OperatorTests.operatorToken(),
                json: ["status": "suspended"])
            #expect(suspended.status == .ok)
            try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
                .expectProblem(401, "signature_invalid")
            // Reactivating the inactive endpoint lets it receive.
            let patched = try await client.send(
                .patch, "/v1/webhooks/\(inactive.id)", token: tenant.token, json: ["active": true])
            #expect(try patched.jsonObject()["active"] as? Bool == true)
            #expect(
                try await client.deliver(inactive.url, event: "push", body: body, secret: inactive.secret).status
                    == .accepted)
        }
    }

    /// The same delivery id ten times at once makes one set of jobs; on two tenants' endpoints, one each.
    @Test func theSameDeliveryTenTimesAtOnceMakesOneSetOfJobs() async throws {
        try await TestEnvironment.withApp { client in
            let first = try await client.signup()
            let second = try await client.signup()
            let endpoints = [
                try await client.createEndpoint(token: first.token),
                try await client.createEndpoint(token: second.token),
            ]
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 3, seed: 13))
            let delivery = UUID().uuidString.lowercased()
            let receipts = try await withThrowingTaskGroup(
                of: (index: Int, status: HTTPResponse.Status, duplicate: Bool, jobs: [String]).self
            ) { group in
                for _ in 0..<10 {
                    for (index, endpoint) in endpoints.enumerated() {
                        group.addTask {
                            let response = try await client.deliver(
                                endpoint.url, event: "push", delivery: delivery, body: body, secret: endpoint.secret)
                            let receipt = try response.jsonObject()
                            return (
                                index, response.status, receipt["duplicate"] as? Bool ?? false,
                                (receipt["job_ids"] as? [String] ?? []).sorted()
                            )
                        }
                    }
                }
                var all: [(index: Int, status: HTTPResponse.Status, duplicate: Bool, jobs: [String])] = []
                for try await receipt in group { all.append(receipt) }
                return all
            }
            for index in endpoints.indices {
                let mine = receipts.filter { $0.index == index }
                #expect(mine.count == 10)
                #expect(mine.filter { $0.status == .accepted }.count == 1, "exactly one new delivery per endpoint")
                #expect(mine.filter(\.duplicate).count == 9)
                let jobSets = Set(mine.map(\.jobs))
                #expect(jobSets.count == 1 && jobSets.first?.count == 3, "every answer names the same three jobs")
            }
            #expect(try await jobCount(first) == 3)
            #expect(try await jobCount(second) == 3)
        }
    }

    /// Jobs land on the tenant's own hash-tagged stream; the repository allow-list decides which pushes
    /// make jobs; a delivery over the webhook limit is refused early, while GitHub's nulls are fine.
    @Test func jobsLandOnTheTenantsOwnStream() async throws {
        let prefix = "cp-stream-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withApp(configure: {
            $0.http.webhookMaxBodyBytes = 64 * 1024
            $0.jobs.queuePrefix = prefix
        }) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(
                token: tenant.token, pipelines: ["commitments"], repositories: ["Octo-Org/Hello-World"])
            let allowed = try await client.deliver(
                endpoint.url, event: "push", body: try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 14)),
                secret: endpoint.secret)
            #expect(allowed.status == .accepted)
            let jobID = try #require((try allowed.jsonObject()["job_ids"] as? [String])?.first)
            let outside = try await client.deliver(
                endpoint.url, event: "push",
                body: try GitHubFixtures.bytes(GitHubFixtures.push(repository: "octo-org/other", commits: 1, seed: 15)),
                secret: endpoint.secret)
            #expect(outside.status == .ok)
            let ignored = try outside.jsonObject()
            #expect(ignored["status"] as? String == "ignored" && (ignored["job_ids"] as? [String])?.isEmpty == true)

            let redis = try RedisClient(url: try TestEnvironment.configuration.redis.url)
            let key = "\(prefix):{t:\(tenant.tenantID)}:jobs"
            let entries = try await redis.command(["XRANGE", key, "-", "+"])
            guard case .array(let items) = entries, items.count == 1, case .array(let entry) = items[0],
                case .array(let fields) = entry[1]
            else {
                Issue.record("expected one stream entry, got \(entries)")
                return
            }
            #expect(fields.map(\.string) == ["job", jobID])
            let ready = try await redis.command(["ZSCORE", "\(prefix):ready", tenant.tenantID])
            #expect(ready.string != nil)

            let big = Array(repeating: UInt8(ascii: " "), count: 70 * 1024)
            try await client.deliver(endpoint.url, event: "push", body: big, secret: endpoint.secret)
                .expectProblem(413, "payload_too_large")
        }
    }
}

/// The tenant's jobs in Postgres, counted in its own transaction (RLS shows nothing otherwise).
func jobCount(_ tenant: SignedUpTenant) async throws -> Int {
    let tenantID = try #require(TenantID(string: tenant.tenantID))
    return try await TestEnvironment.withDatabase { client in
        try await Database(client: client, logger: TestEnvironment.logger).withTenant(tenantID) { transaction in
            var count = 0
            for try await value in try await transaction.query(
                "SELECT count(*)::integer FROM jobs WHERE tenant_id = \(tenantID.rawValue)"
            ).decode(Int32.self) { count = Int(value) }
            return count
        }
    }
}
