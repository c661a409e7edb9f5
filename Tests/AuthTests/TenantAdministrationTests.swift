import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Changing a tenant without HTTP: its people rename it and move its time zone within the rules, an
/// operator suspends it and this replica forgets its cached credentials at once, and each change is
/// audited in the tenant's log.
@Suite(.timeLimit(.minutes(2))) struct TenantAdministrationTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-t", clientAddress: nil)

    @Test func peopleRenameTheirTenantAndAnOperatorSuspendsIt() async throws {
        try await TestDatabase.with { database in
            let credentials = CredentialStateCache()
            let administration = TenantAdministration(database: database, credentials: credentials)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "admin")
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.update(
                        name: " \u{7}", timezone: nil, tenantID: tenantID, recordedAs: Self.caller)
                } == .invalid("name must be 1 to 200 printable characters."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.update(
                        name: nil, timezone: "Nowhere/Else", tenantID: tenantID, recordedAs: Self.caller)
                } == .invalid("timezone must be an IANA time zone such as Europe/Berlin."))
            let renamed = try await administration.update(
                name: "  Acme  ", timezone: "Asia/Tokyo", tenantID: tenantID, recordedAs: Self.caller)
            #expect(renamed.name == "Acme" && renamed.timezone == "Asia/Tokyo" && renamed.status == .active)

            // A key of this tenant, cached as active on this replica.
            credentials.heartbeat()
            let key = UUID()
            credentials.store(
                .init(tenantID: tenantID, exists: true, revokedAt: nil, tenantStatus: .active), for: key,
                readAt: credentials.generation)
            #expect(credentials.state(for: key) != nil)
            let suspended = try await administration.operatorUpdate(
                status: .suspended, plan: nil, tenantID: tenantID,
                recordedAs: AuditLog.Caller(actorType: .operator, actorID: "op", requestID: nil, clientAddress: nil))
            #expect(suspended.status == .suspended && suspended.name == "Acme")
            #expect(credentials.state(for: key) == nil)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.operatorUpdate(
                        status: .active, plan: nil, tenantID: TenantID.generate(), recordedAs: Self.caller)
                } == .notFound("tenant"))
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["tenant.admin_update", "tenant.update"])
        }
    }
}
