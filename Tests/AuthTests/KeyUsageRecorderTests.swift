import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Key uses are gathered per replica and written by one statement for many tenants at once: each key's
/// `last_used_at` moves to its latest use (never back), and a key id given under another tenant is left
/// alone (row-level security decides each tenant's update).
@Suite(.timeLimit(.minutes(2))) struct KeyUsageRecorderTests {
    @Test func oneFlushRecordsTheUsesOfManyTenantsAndNeverMovesATimeBack() async throws {
        try await TestDatabase.with { database in
            let recorder = KeyUsageRecorder(database: database, logger: TestDatabase.logger)
            var keys: [(TenantID, UUID)] = []
            for _ in 0..<3 {
                let (tenantID, member) = try await KeyIssuanceTests.member(in: database)
                let key = try KeyIssuanceTests.issuance(database).newKey(
                    name: "used", scopes: [.llmInvoke], expiresInSeconds: nil, by: member, tenantID: tenantID)
                try await database.withTenant(tenantID) { try await ApiKeyRepository().insert(key, in: $0) }
                keys.append((tenantID, key.id))
            }
            let base = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            for (index, (tenantID, keyID)) in keys.enumerated() {
                recorder.touch(keyID, tenantID: tenantID, at: base.addingTimeInterval(Double(index)))
                // An earlier use gathered after a later one does not win.
                recorder.touch(keyID, tenantID: tenantID, at: base.addingTimeInterval(-100))
            }
            // The first tenant's key named under the second tenant: not that tenant's key, not touched.
            recorder.touch(keys[0].1, tenantID: keys[1].0, at: base.addingTimeInterval(500))
            await recorder.flush()
            for (index, (tenantID, keyID)) in keys.enumerated() {
                let found = try await database.withTenant(tenantID) { try await ApiKeyRepository().find(keyID, in: $0) }
                #expect(found?.lastUsedAt == base.addingTimeInterval(Double(index)))
            }

            // A later flush with an older use leaves the time where it was.
            recorder.touch(keys[2].1, tenantID: keys[2].0, at: base.addingTimeInterval(-50))
            await recorder.flush()
            let last = try await database.withTenant(keys[2].0) { try await ApiKeyRepository().find(keys[2].1, in: $0) }
            #expect(last?.lastUsedAt == base.addingTimeInterval(2))
        }
    }
}
