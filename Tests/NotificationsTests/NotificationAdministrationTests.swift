import Crypto
import Foundation
import Notifications
import Persistence
import Providers
import Tenancy
import TestKit
import Testing

/// Setting where a tenant's events go, without HTTP: a URL the outbound guard refuses is never stored, each
/// event is named once (all of them when none is named), the secret is shown when made and when rotated
/// only, and every change is audited.
@Suite(.timeLimit(.minutes(2))) struct NotificationAdministrationTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-n", clientAddress: nil)

    @Test func aURLOffThePlatformsNetworkIsRefusedAndNothingIsStored() async throws {
        try await TestDatabase.with { database in
            let administration = NotificationAdministration(
                database: database, store: NotificationStore(box: SecretBox(key: SymmetricKey(size: .bits256))),
                addressGuard: OutboundAddressGuard(allowlist: []))
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "notify")
            func put(_ url: String, _ events: [NotificationEventType]? = nil) async -> AddressRefused? {
                await thrown(AddressRefused.self) {
                    _ = try await administration.put(
                        url: url, events: events, active: true, rotateSecret: false, tenantID: tenantID,
                        recordedAs: Self.caller)
                }
            }
            #expect(await put("http://127.0.0.1/hook")?.reason.hasPrefix("url may not point at a loopback") == true)
            #expect(await put("https://metadata.internal/hook")?.reason == "url may not point at a local name")
            #expect(await put("ftp://example.com/hook")?.reason.hasPrefix("url must be an http or https URL") == true)
            #expect(
                await put("https://example.com/" + String(repeating: "a", count: 2048))?.reason
                    == "url must be at most 2048 visible ASCII characters")
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.put(
                        url: "https://example.com/hook", events: [.budgetExhausted, .budgetExhausted], active: true,
                        rotateSecret: false, tenantID: tenantID, recordedAs: Self.caller)
                } == .invalid("events must name each event once."))
            #expect(
                await thrown(Refusal.self) { _ = try await administration.read(tenantID: tenantID) }
                    == .notFound("notification settings"))
        }
    }

    @Test func theSecretIsShownWhenMadeAndWhenRotatedOnly() async throws {
        try await TestDatabase.with { database in
            let administration = NotificationAdministration(
                database: database, store: NotificationStore(box: SecretBox(key: SymmetricKey(size: .bits256))),
                addressGuard: OutboundAddressGuard(allowlist: []))
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "notify")
            func put(events: [NotificationEventType]?, rotate: Bool) async throws -> NotificationSettings {
                try await administration.put(
                    url: "https://hooks.example.com/in", events: events, active: true, rotateSecret: rotate,
                    tenantID: tenantID, recordedAs: Self.caller
                ).0
            }
            let made = try await put(events: nil, rotate: false)
            #expect(made.secret != nil && Set(made.events) == Set(NotificationEventType.allCases))
            let changed = try await put(events: [.jobDeadLettered, .budgetExhausted], rotate: false)
            #expect(changed.secret == nil && changed.events == [.budgetExhausted, .jobDeadLettered])
            let rotated = try await put(events: [.jobDeadLettered], rotate: true)
            #expect(rotated.secret != nil && rotated.secret != made.secret)
            let (read, attempts) = try await administration.read(tenantID: tenantID)
            #expect(read.secret == nil && read.events == [.jobDeadLettered] && attempts.isEmpty)
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["notifications.put", "notifications.put", "notifications.put"])
        }
    }
}
