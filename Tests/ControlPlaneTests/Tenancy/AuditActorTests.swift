import Foundation
import HummingbirdTesting
import Persistence
import Tenancy
import Testing

/// The worker and webhook ingest will write audit events as the platform itself: `system`, not an
/// operator called "unknown".
@Suite(.timeLimit(.minutes(3))) struct AuditActorTests {
    @Test func systemEntriesAreRecordedAndListedAsSystem() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let tenantID = try #require(TenantID(string: tenant.tenantID))
            try await TestEnvironment.withDatabase { postgres in
                try await Database(client: postgres, logger: TestEnvironment.logger).withTenant(tenantID) {
                    try await AuditLog().record(
                        .system("worker", action: "job.dead_lettered", targetType: "job", targetID: "j-1"), in: $0)
                }
            }
            let log = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let newest = try #require((log["items"] as? [[String: Any]])?.first)
            #expect(newest["actor_type"] as? String == "system")
            #expect(newest["actor_id"] as? String == "worker")
            #expect(newest["action"] as? String == "job.dead_lettered")
        }
    }
}
