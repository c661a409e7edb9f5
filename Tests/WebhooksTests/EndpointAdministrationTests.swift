import Crypto
import Foundation
import Jobs
import Persistence
import Tenancy
import TestKit
import Testing
import Webhooks

/// Changing webhook endpoints without HTTP: what an endpoint may run and for which repositories, the grace
/// a rotated secret may keep, another tenant's endpoint read as none, and every change audited.
@Suite(.timeLimit(.minutes(2))) struct EndpointAdministrationTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "u-1", requestID: "r-1", clientAddress: nil)

    @Test func routingIsCheckedBeforeAnythingIsStored() {
        func refusal(_ pipelines: [Pipeline], _ repositories: [String]) -> Refusal? {
            do {
                _ = try EndpointAdministration.Routing(pipelines: pipelines, repositories: repositories)
                return nil
            } catch { return error as? Refusal }
        }
        let pipelines = Refusal.invalid("pipelines must name 1 to 3 different pipelines.")
        #expect(refusal([], []) == pipelines)
        #expect(refusal([.commitments, .commitments], []) == pipelines)
        #expect(
            refusal([.commitments], ["no-slash"])
                == .invalid(
                    "repositories entries must be owner/name (letters, digits, '_', '.', '-')."))
        #expect(refusal([.commitments], ["a/b", "a/b"]) == .invalid("repositories must not repeat an entry."))
        #expect(
            refusal([.commitments], (0...1000).map { "o/r\($0)" })
                == .invalid("repositories holds at most 1000 entries."))
        let routing = try? EndpointAdministration.Routing(
            pipelines: [.securityReview, .commitments], repositories: ["octo/app"])
        #expect(routing?.pipelines == [.commitments, .securityReview] && routing?.repositories == ["octo/app"])
    }

    @Test func changesAreAuditedAndAnotherTenantsEndpointIsNone() async throws {
        try await TestDatabase.with { database in
            let administration = EndpointAdministration(
                database: database, endpoints: WebhookEndpointStore(box: SecretBox(key: SymmetricKey(size: .bits256))))
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "hooks")
            let otherID = try await TestDatabase.tenant(in: database, prefix: "hooks")
            let routing = try EndpointAdministration.Routing(pipelines: [.commitments], repositories: [])
            let (endpoint, secret) = try await database.withTenant(tenantID) {
                try await administration.create(
                    id: UUID(), routing: routing, active: true, recordedAs: Self.caller, in: $0)
            }
            #expect(secret.count == 64 && endpoint.pipelines == [.commitments] && endpoint.active)
            let updated = try await administration.update(
                endpoint.id, pipelines: [.changeSummary], repositories: ["octo/app"], active: false, tenantID: tenantID,
                recordedAs: Self.caller)
            #expect(updated.pipelines == [.changeSummary] && updated.repositories == ["octo/app"] && !updated.active)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.rotate(
                        endpoint.id, graceSeconds: 604_801, tenantID: tenantID, recordedAs: Self.caller)
                } == .invalid("grace_seconds must be 0 to 604800."))
            let rotated = try await administration.rotate(
                endpoint.id, graceSeconds: nil, tenantID: tenantID, recordedAs: Self.caller)
            #expect(rotated.secret != secret && rotated.endpoint.previousSecretExpiresAt != nil)
            let notFound = Refusal.notFound("webhook endpoint")
            #expect(
                await thrown(Refusal.self) {
                    try await administration.delete(endpoint.id, tenantID: otherID, recordedAs: Self.caller)
                } == notFound)
            try await administration.delete(endpoint.id, tenantID: tenantID, recordedAs: Self.caller)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await administration.update(
                        endpoint.id, pipelines: nil, repositories: nil, active: true, tenantID: tenantID,
                        recordedAs: Self.caller)
                } == notFound)
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry)
            }
            #expect(
                actions.map(\.action).sorted()
                    == ["webhook.create", "webhook.delete", "webhook.rotate_secret", "webhook.update"])
            #expect(actions.allSatisfy { $0.targetID == endpoint.id.text && $0.requestID == "r-1" })
            #expect(
                try await database.withTenant(otherID) { try await AuditLog().list(limit: 1, after: nil, in: $0) }.items
                    .isEmpty)
        }
    }
}
