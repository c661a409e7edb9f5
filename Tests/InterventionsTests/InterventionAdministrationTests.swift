import Foundation
import Interventions
import Persistence
import Providers
import Tenancy
import TestKit
import Testing

/// A tenant's intervention settings and outcomes without HTTP: the delay's range, a Slack webhook set or
/// removed (not both) and checked by the outbound guard, what is kept, the audit entry, and the rate.
@Suite(.timeLimit(.minutes(2))) struct InterventionAdministrationTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-iv", clientAddress: nil)

    static func administration(_ database: Database) throws -> InterventionAdministration {
        let key = String(repeating: "k", count: 32).data(using: .utf8)!.base64EncodedString()
        return InterventionAdministration(
            database: database, store: InterventionStore(box: try SecretBox(base64MasterKey: key)),
            addressGuard: OutboundAddressGuard(allowlist: []), clock: .system)
    }

    @Test func settingsFollowTheirRulesKeepWhatIsNotGivenAndAreAudited() async throws {
        try await TestDatabase.with { database in
            let administration = try Self.administration(database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "i")
            func change(
                delay: Int? = nil, tone: String? = nil, url: String? = nil, remove: Bool = false
            ) async throws -> InterventionSettings {
                try await administration.changeSettings(
                    of: tenantID, enabled: nil, tone: tone, escalationDelaySeconds: delay, slackWebhookURL: url,
                    removeSlackWebhook: remove, recordedAs: Self.caller)
            }
            #expect(
                await thrown(Refusal.self) { _ = try await change(delay: 59) }
                    == .invalid("escalation_delay_seconds must be between 60 and 2592000."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await change(url: "https://hooks.slack.com/services/T/B/x", remove: true)
                }
                    == .invalid("Send slack_webhook_url or remove_slack_webhook, not both."))
            let loopback = await thrown(AddressRefused.self) { _ = try await change(url: "http://127.0.0.1/hook") }
            #expect(loopback?.reason.hasPrefix("slack_webhook_url may not point at a loopback") == true)
            let before = try await administration.settings(of: tenantID)
            let changed = try await change(delay: 3600, url: "https://hooks.slack.com/services/T/B/x")
            #expect(
                changed.escalationDelaySeconds == 3600 && changed.tone == before.tone
                    && changed.enabled == before.enabled)
            let removed = try await change(remove: true)
            #expect(changed.slackConfigured && !removed.slackConfigured && removed.escalationDelaySeconds == 3600)
            let details = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 5, after: nil, in: $0).items.map(\.entry.details)
            }
            #expect(
                details == [
                    ["slack_webhook": "removed"], ["escalation_delay_seconds": "3600", "slack_webhook": "set"],
                ])
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.report("accepted", for: UUID(), of: tenantID, recordedAs: Self.caller)
                } == .notFound("intervention"))
        }
    }
}
