import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Interventions
import Persistence
import Tenancy
import Webhooks

/// The interventions the scheduler made, the outcome the receiving side reports, the tenant's settings
/// (tone, escalation delay, Slack webhook) and the weekly totals with the acceptance rate.
struct InterventionsHandler: Sendable {
    let database: Database
    let store: InterventionStore
    let paging: Paging
    let administration: InterventionAdministration
    let clock: ServerClock
    let tenants = TenantRepository()
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
            of: list, limit: query.limit, cursor: query.cursor, tenant: tenantID
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
        let reported = try await administration.report(
            outcome, for: id, of: tenantID, recordedAs: try scope.auditCaller())
        if reported.changed { observer?.outcome(outcome) }
        return .ok(.init(body: .json(.init(reported.record))))
    }

    func getInterventionSettings(_ input: Operations.GetInterventionSettings.Input) async throws
        -> Operations.GetInterventionSettings.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        return .ok(.init(body: .json(.init(try await administration.settings(of: tenantID)))))
    }

    func putInterventionSettings(_ input: Operations.PutInterventionSettings.Input) async throws
        -> Operations.PutInterventionSettings.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let body) = input.body else { throw APIError.invalid("Send the settings as JSON.") }
        let settings = try await administration.changeSettings(
            of: tenantID, enabled: body.enabled, tone: body.tone?.rawValue,
            escalationDelaySeconds: body.escalationDelaySeconds, slackWebhookURL: body.slackWebhookUrl,
            removeSlackWebhook: body.removeSlackWebhook == true, recordedAs: try scope.auditCaller())
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
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from, to: to, items: weeks.map { .init($0) },
                        acceptanceRate: InterventionAdministration.acceptanceRate(of: weeks)))))
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
