import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Interventions
import Persistence
import Providers
import Tenancy
import Webhooks

/// The interventions the scheduler made, the outcome the receiving side reports, the tenant's settings
/// (tone, escalation delay, Slack webhook) and the weekly totals with the acceptance rate.
struct InterventionsHandler: Sendable {
    let database: Database
    let store: InterventionStore
    let paging: Paging
    let addressGuard: OutboundAddressGuard
    let clock: ServerClock
    let tenants = TenantRepository()
    let audit = AuditLog()
    let observer: (any InterventionOutcomeObserver)?

    func listInterventions(_ input: Operations.ListInterventions.Input) async throws
        -> Operations.ListInterventions.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let query = input.query
        if let repository = query.repository, GitHubPayload.repositoryName(repository) == nil || repository.count < 3 {
            throw APIError.invalid("repository must be owner/name.")
        }
        if let person = query.person {
            try Validation.email(person, field: "person")
        }
        let filter = InterventionStore.Filter(
            status: query.status?.rawValue, person: query.person, repository: query.repository)
        let list = [
            "interventions", tenantID.description, query.status?.rawValue ?? "", query.person?.lowercased() ?? "",
            query.repository?.lowercased() ?? "",
        ].joined(separator: ":")
        let page = try await paging.page(
            of: list, limit: query.limit, cursor: query.cursor, tenant: tenantID, database: database
        ) { limit, cursor, transaction in
            try await store.list(filter, limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func reportInterventionOutcome(_ input: Operations.ReportInterventionOutcome.Input) async throws
        -> Operations.ReportInterventionOutcome.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the outcome as JSON.") }
        guard let id = UUID(uuidString: input.path.interventionId) else { throw APIError.notFound("intervention") }
        let outcome = body.outcome.rawValue
        let entry = try scope.auditEntry(
            "intervention.outcome", targetType: "intervention", targetID: id.uuidString.lowercased(),
            details: ["outcome": outcome])
        let result = try await database.withTenant(tenantID) { transaction in
            let result = try await store.report(
                outcome, for: id, by: "\(entry.actorType):\(entry.actorID)", at: clock.now(), in: transaction)
            if case .recorded = result { try await audit.record(entry, in: transaction) }
            return result
        }
        switch result {
        case .recorded(let record):
            observer?.outcome(outcome)
            return .ok(.init(body: .json(.init(record))))
        case .unchanged(let record):
            return .ok(.init(body: .json(.init(record))))
        case .conflict(let record):
            throw APIError.conflict("The intervention was already \(record.status).")
        case .notFound:
            throw APIError.notFound("intervention")
        }
    }

    func getInterventionSettings(_ input: Operations.GetInterventionSettings.Input) async throws
        -> Operations.GetInterventionSettings.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let settings = try await database.withTenant(tenantID) { try await store.settings(in: $0) }
        return .ok(.init(body: .json(.init(settings))))
    }

    func putInterventionSettings(_ input: Operations.PutInterventionSettings.Input) async throws
        -> Operations.PutInterventionSettings.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the settings as JSON.") }
        if let delay = body.escalationDelaySeconds, !(60...2_592_000).contains(delay) {
            throw APIError.invalid("escalation_delay_seconds must be between 60 and 2592000.")
        }
        var slack = InterventionStore.SlackChange.keep
        if let url = body.slackWebhookUrl {
            guard body.removeSlackWebhook != true else {
                throw APIError.invalid("Send slack_webhook_url or remove_slack_webhook, not both.")
            }
            slack = .set(try validatedURL(url))
        } else if body.removeSlackWebhook == true {
            slack = .remove
        }
        var details: [String: String] = [:]
        if let tone = body.tone { details["tone"] = tone.rawValue }
        if let enabled = body.enabled { details["enabled"] = "\(enabled)" }
        if let delay = body.escalationDelaySeconds { details["escalation_delay_seconds"] = "\(delay)" }
        switch slack {
        case .keep: break
        case .remove: details["slack_webhook"] = "removed"
        case .set: details["slack_webhook"] = "set"
        }
        let entry = try scope.auditEntry(
            "interventions.settings", targetType: "interventions", targetID: "\(tenantID)", details: details)
        let settings = try await database.withTenant(tenantID) { transaction in
            let current = try await store.settings(in: transaction)
            let settings = try await store.put(
                enabled: body.enabled ?? current.enabled, tone: body.tone?.rawValue ?? current.tone,
                escalationDelaySeconds: body.escalationDelaySeconds ?? current.escalationDelaySeconds, slack: slack,
                in: transaction)
            try await audit.record(entry, in: transaction)
            return settings
        }
        return .ok(.init(body: .json(.init(settings))))
    }

    func getInterventionTotals(_ input: Operations.GetInterventionTotals.Input) async throws
        -> Operations.GetInterventionTotals.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let (from, to, weeks) = try await database.withTenant(tenantID) { transaction in
            let zone = try await tenants.find(in: transaction).flatMap { TimeZone(identifier: $0.timezone) }
            let (from, to) = try Validation.usageDays(
                from: input.query.from, to: input.query.to, today: clock.now(), timeZone: zone ?? .gmt)
            return (from, to, try await store.weekly(from: from, to: to, in: transaction))
        }
        let accepted = weeks.reduce(0) { $0 + $1.accepted }
        let answered = accepted + weeks.reduce(0) { $0 + $1.dismissed }
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from, to: to, items: weeks.map { .init($0) },
                        acceptanceRate: answered == 0 ? nil : Double(accepted) / Double(answered)))))
    }

    /// A Slack webhook URL the outbound guard lets through, at most 2048 visible ASCII characters.
    private func validatedURL(_ url: String) throws -> String {
        let checked: String
        do {
            checked = try addressGuard.validate(baseURL: url).absoluteString
        } catch let refused as AddressRefused {
            let reason = refused.reason.replacingOccurrences(of: "base_url", with: "slack_webhook_url")
            throw APIError.invalid(reason.prefix(1).uppercased() + reason.dropFirst() + ".")
        }
        guard checked.utf8.count <= 2048, checked.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw APIError.invalid("slack_webhook_url must be at most 2048 visible ASCII characters.") }
        return checked
    }
}

extension Components.Schemas.Intervention {
    init(_ record: InterventionRecord) {
        self.init(
            id: record.id.uuidString.lowercased(), analysisId: record.analysisID.uuidString.lowercased(),
            repository: record.repository, sha: record.sha, person: record.person, commitment: record.commitment,
            dueDate: record.dueDate, status: .init(rawValue: record.status) ?? .open, ownerHandle: record.ownerHandle,
            managerEmail: record.managerEmail, tone: record.tone, message: record.message,
            escalationMessage: record.escalationMessage, provider: record.provider, model: record.model,
            totalTokens: Int(clamping: record.totalTokens), createdAt: record.createdAt, escalateAt: record.escalateAt,
            escalatedAt: record.escalatedAt, outcomeAt: record.outcomeAt)
    }
}

extension Components.Schemas.InterventionSettings {
    init(_ settings: InterventionSettings) {
        self.init(
            enabled: settings.enabled, tone: .init(rawValue: settings.tone) ?? .friendly,
            escalationDelaySeconds: settings.escalationDelaySeconds, slackWebhookConfigured: settings.slackConfigured,
            updatedAt: settings.updatedAt)
    }
}

extension Components.Schemas.InterventionWeek {
    init(_ week: InterventionWeek) {
        self.init(
            week: week.week, created: week.created, escalated: week.escalated, accepted: week.accepted,
            dismissed: week.dismissed, acceptanceRate: week.acceptanceRate)
    }
}
