import Foundation
import Persistence
import Providers
import Tenancy

/// What a tenant does with its interventions: reports the receiving side's outcome (once; a different
/// outcome afterwards is a conflict), reads and changes its settings (escalation delay from a minute to
/// 30 days, a Slack webhook the outbound address guard lets through, set or removed but not both), and
/// reads the acceptance rate. Every change is audited in its transaction.
public struct InterventionAdministration: Sendable {
    let database: Database
    let store: InterventionStore
    let addressGuard: OutboundAddressGuard
    let clock: ServerClock
    let audit = AuditLog()

    public init(database: Database, store: InterventionStore, addressGuard: OutboundAddressGuard, clock: ServerClock) {
        self.database = database
        self.store = store
        self.addressGuard = addressGuard
        self.clock = clock
    }

    /// Records `outcome` (`accepted`, `dismissed`) for intervention `id`; answers the intervention and
    /// whether this report changed it.
    public func report(_ outcome: String, for id: UUID, of tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws -> (record: InterventionRecord, changed: Bool)
    {
        let entry = caller.entry(
            "intervention.outcome", targetType: "intervention", targetID: id.text,
            details: ["outcome": outcome])
        let result = try await database.withTenant(tenantID) { transaction in
            let result = try await store.report(
                outcome, for: id, by: caller.name, at: clock.now(),
                in: transaction)
            if case .recorded = result { try await audit.record(entry, in: transaction) }
            return result
        }
        switch result {
        case .recorded(let record): return (record, true)
        case .unchanged(let record): return (record, false)
        case .conflict(let record): throw Refusal.conflict("The intervention was already \(record.status).")
        case .notFound: throw Refusal.notFound("intervention")
        }
    }

    public func settings(of tenantID: TenantID) async throws -> InterventionSettings {
        try await database.withTenant(tenantID) { try await store.settings(in: $0) }
    }

    /// Changes what is given and keeps the rest.
    public func changeSettings(
        of tenantID: TenantID, enabled: Bool?, tone: String?, escalationDelaySeconds: Int?, slackWebhookURL: String?,
        removeSlackWebhook: Bool, recordedAs caller: AuditLog.Caller
    ) async throws -> InterventionSettings {
        if let delay = escalationDelaySeconds, !(60...2_592_000).contains(delay) {
            throw Refusal.invalid("escalation_delay_seconds must be between 60 and 2592000.")
        }
        var slack = InterventionStore.SlackChange.keep
        if let url = slackWebhookURL {
            guard !removeSlackWebhook else {
                throw Refusal.invalid("Send slack_webhook_url or remove_slack_webhook, not both.")
            }
            slack = .set(try addressGuard.callbackURL(url, field: "slack_webhook_url"))
        } else if removeSlackWebhook {
            slack = .remove
        }
        var details: [String: String] = [:]
        if let tone { details["tone"] = tone }
        if let enabled { details["enabled"] = "\(enabled)" }
        if let escalationDelaySeconds { details["escalation_delay_seconds"] = "\(escalationDelaySeconds)" }
        switch slack {
        case .keep: break
        case .remove: details["slack_webhook"] = "removed"
        case .set: details["slack_webhook"] = "set"
        }
        let entry = caller.entry(
            "interventions.settings", targetType: "interventions", targetID: "\(tenantID)", details: details)
        return try await database.withTenant(tenantID) { transaction in
            let current = try await store.settings(in: transaction)
            let settings = try await store.put(
                enabled: enabled ?? current.enabled, tone: tone ?? current.tone,
                escalationDelaySeconds: escalationDelaySeconds ?? current.escalationDelaySeconds, slack: slack,
                in: transaction)
            try await audit.record(entry, in: transaction)
            return settings
        }
    }

    /// The share of answered interventions that were accepted; nil when none was answered.
    public static func acceptanceRate(of weeks: [InterventionWeek]) -> Double? {
        let accepted = weeks.reduce(0) { $0 + $1.accepted }
        let answered = accepted + weeks.reduce(0) { $0 + $1.dismissed }
        return answered == 0 ? nil : Double(accepted) / Double(answered)
    }
}
