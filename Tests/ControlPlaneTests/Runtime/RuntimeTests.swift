import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite(.timeLimit(.minutes(3))) struct RuntimeTests {
    static let messages = [
        "Add the retry queue\n\nI will add tests by Friday. We'll document it next week.\n\nSigned-off-by: Ada <ada@example.test>",
        "Rotate the API token and update login session handling",
    ]

    /// A signed push becomes one job per pipeline, and the worker turns them into one analysis per
    /// pipeline and commit through the `mock` provider, billed to the tenant.
    @Test func aPushBecomesAnalysesThroughTheMockProvider() async throws {
        try await TestEnvironment.withApp(worker: true) { client in
            let tenant = try await client.signup()
            try await Runtime.identity(
                client, tenant, email: "ada@corp.test", gitEmails: ["ada@example.test"], handle: "U123ADA")
            let endpoint = try await client.createEndpoint(token: tenant.token)
            var push = GitHubFixtures.push(commits: 2, seed: 31, messages: Self.messages)
            if var commits = push["commits"] as? [[String: Any]] {
                commits[1]["added"] = [".env.production"]
                push["commits"] = commits
            }
            let response = try await client.deliver(
                endpoint.url, event: "push", body: try GitHubFixtures.bytes(push), secret: endpoint.secret)
            #expect(response.status == .accepted)
            let deliveryID = try #require(try response.jsonObject()["delivery_id"] as? String)
            let jobs = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: 3)
            #expect(jobs.allSatisfy { $0["status"] as? String == "succeeded" }, "\(jobs)")

            let analyses = try await Runtime.analyses(client, tenant)
            #expect(analyses.count == 6, "one per pipeline and commit")
            let commitments = try await Runtime.analyses(
                client, tenant, query: "&pipeline=commitments&author=ADA@example.test")
            let first = try #require(commitments.first { ($0["sha"] as? String) == GitHubFixtures.sha(3100) })
            #expect(first["author_handle"] as? String == "U123ADA")
            let promises = (first["output"] as? [String: Any])?["commitments"] as? [[String: Any]] ?? []
            #expect(promises.count == 2, "\(promises)")
            // The commit was made on Friday 2026-11-20 (+01:00): "by Friday" is that day, "next week" the Monday after.
            #expect(promises.first?["due_date"] as? String == "2026-11-20")
            #expect(promises.last?["due_date"] as? String == "2026-11-23")
            #expect(promises.first?["owner"] as? String == "ada@example.test")
            #expect(promises.first?["owner_handle"] as? String == "U123ADA")

            let reviews = try await Runtime.analyses(client, tenant, query: "&pipeline=security_review")
            let risky = try #require(reviews.first { ($0["sha"] as? String) == GitHubFixtures.sha(3101) })
            #expect((risky["output"] as? [String: Any])?["risk"] as? String == "high")
            let summaries = try await Runtime.analyses(client, tenant, query: "&pipeline=change_summary")
            #expect(summaries.count == 2)
            #expect(
                summaries.allSatisfy {
                    (($0["output"] as? [String: Any])?["push_summary"] as? String)?.hasPrefix("2 commits") == true
                })
            #expect(
                analyses.allSatisfy { $0["provider"] as? String == "mock" && ($0["total_tokens"] as? Int ?? 0) >= 0 })

            let delivery = try await client.send(.get, "/v1/deliveries/\(deliveryID)", token: tenant.token).jsonObject()
            #expect(delivery["status"] as? String == "processed")
            // Every provider call is in the ledger: 2 + 2 + (2 notes + 1 summary).
            #expect(try await Runtime.usageRows(tenant) == 7)
            let one = try await client.send(.get, "/v1/analyses/\(first["id"] as? String ?? "")", token: tenant.token)
            #expect(one.status == .ok)
        }
    }

    /// The same commits pushed again (a forced push, a redelivery under a new id) store nothing new and
    /// bill nothing; a commit message the tenant committed before is reused at no cost.
    @Test func processingTheSameCommitsAgainStoresOneAnalysisAndBillsOnce() async throws {
        try await TestEnvironment.withApp(worker: true) { client in
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 2, seed: 41, messages: Self.messages))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret).status
                    == .accepted)
            _ = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: 1)
            let billed = try await Runtime.usageRows(tenant)
            #expect(billed == 2)

            let forced = try GitHubFixtures.bytes(
                GitHubFixtures.push(commits: 2, seed: 41, forced: true, messages: Self.messages))
            #expect(
                try await client.deliver(endpoint.url, event: "push", body: forced, secret: endpoint.secret).status
                    == .accepted)
            _ = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: 2)
            #expect(try await Runtime.analyses(client, tenant).count == 2)
            #expect(try await Runtime.usageRows(tenant) == billed)

            // New commits, the first with a message seen before (trailers and spacing aside).
            let again = GitHubFixtures.push(
                commits: 1, seed: 42,
                messages: ["Add the retry queue\n\nI will add   tests by Friday. We'll document it next week."])
            #expect(
                try await client.deliver(
                    endpoint.url, event: "push", body: try GitHubFixtures.bytes(again), secret: endpoint.secret
                )
                .status == .accepted)
            _ = try await Runtime.waitForJobs(client, tenant, status: "succeeded", count: 3)
            let reused = try await Runtime.analyses(client, tenant, query: "&sha=\(GitHubFixtures.sha(4200))")
            #expect(reused.first?["reused"] as? Bool == true && reused.first?["total_tokens"] as? Int == 0)
            #expect(try await Runtime.usageRows(tenant) == billed)
        }
    }
}
