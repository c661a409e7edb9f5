import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import TestKit
import Testing

/// Helpers for tests of the runtime: waiting for jobs, reading analyses, writing identities.
enum Runtime {
    /// Waits until the tenant has `count` jobs in `status` (or the time is up); answers the jobs listed.
    static func waitForJobs(
        _ client: any TestClientProtocol, _ tenant: SignedUpTenant, status: String, count: Int,
        timeout: Duration = .seconds(30)
    ) async throws -> [[String: Any]] {
        var jobs: [[String: Any]] = []
        _ = try await waitUntil(timeout: timeout) {
            let page = try await client.send(.get, "/v1/jobs?status=\(status)&limit=100", token: tenant.token)
            let items = try page.jsonObject()["items"] as? [[String: Any]] ?? []
            return items.count >= count
        }
        let page = try await client.send(.get, "/v1/jobs?limit=100", token: tenant.token)
        jobs = try page.jsonObject()["items"] as? [[String: Any]] ?? []
        return jobs
    }

    static func analyses(_ client: any TestClientProtocol, _ tenant: SignedUpTenant, query: String = "") async throws
        -> [[String: Any]]
    {
        let page = try await client.send(.get, "/v1/analyses?limit=100\(query)", token: tenant.token)
        #expect(page.status == .ok, "\(String(buffer: page.body))")
        return try page.jsonObject()["items"] as? [[String: Any]] ?? []
    }

    /// Stores an identity through `PUT /v1/identities`.
    static func identity(
        _ client: any TestClientProtocol, _ tenant: SignedUpTenant, email: String, gitEmails: [String], handle: String
    ) async throws {
        let response = try await client.send(
            .put, "/v1/identities", token: tenant.token,
            json: ["items": [["email": email, "git_emails": gitEmails, "chat_handle": handle]]])
        #expect(response.status == .ok, "\(String(buffer: response.body))")
    }

    /// The tenant's usage rows (one per provider call).
    static func usageRows(_ tenant: SignedUpTenant) async throws -> Int {
        let id = try #require(TenantID(string: tenant.tenantID))
        return try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(id) { transaction in
                var count = 0
                for try await value in try await transaction.query("SELECT count(*)::integer FROM usage_records")
                    .decode(Int32.self)
                {
                    count = Int(value)
                }
                return count
            }
        }
    }
}
