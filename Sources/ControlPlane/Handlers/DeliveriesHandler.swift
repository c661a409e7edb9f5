import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy
import Webhooks

/// The tenant's received deliveries: list (by status, event, repository), read one with its jobs, and
/// replay one as its endpoint is configured now.
struct DeliveriesHandler: Sendable {
    let database: Database
    let paging: Paging
    let ingest: WebhookIngest
    let deliveries = DeliveryStore()

    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let query = input.query
        if let event = query.event, !Self.isEventName(event) {
            throw APIError.invalid("event must be 1 to 64 lowercase letters or '_'.")
        }
        if let repository = query.repository, GitHubPayload.repositoryName(repository) == nil || repository.count < 3 {
            throw APIError.invalid("repository must be owner/name.")
        }
        let filter = DeliveryStore.Filter(
            status: query.status.flatMap { DeliveryStatus(rawValue: $0.rawValue) }, event: query.event,
            repository: query.repository)
        // The cursor belongs to the list with these filters, so it cannot be replayed against another.
        let list =
            "deliveries:\(tenantID):\(query.status?.rawValue ?? ""):\(query.event ?? ""):\(query.repository?.lowercased() ?? "")"
        let page = try await paging.page(
            of: list, limit: query.limit, cursor: query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await deliveries.list(filter, limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func getDelivery(_ input: Operations.GetDelivery.Input) async throws -> Operations.GetDelivery.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let id = UUID(uuidString: input.path.deliveryId) else { throw APIError.notFound("delivery") }
        guard let delivery = try await database.withTenant(tenantID, { try await deliveries.find(id, in: $0) }) else {
            throw APIError.notFound("delivery")
        }
        return .ok(.init(body: .json(.init(delivery))))
    }

    func replayDelivery(_ input: Operations.ReplayDelivery.Input) async throws -> Operations.ReplayDelivery.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard let id = UUID(uuidString: input.path.deliveryId) else { throw APIError.notFound("delivery") }
        let accepted = try await ingest.replay(id, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .accepted(
            .init(
                body: .json(
                    .init(
                        deliveryId: accepted.deliveryID.uuidString.lowercased(),
                        status: .init(rawValue: accepted.status.rawValue) ?? .accepted, duplicate: false,
                        jobIds: accepted.jobIDs.map { $0.uuidString.lowercased() }))))
    }

    static func isEventName(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
    }
}

extension Components.Schemas.Delivery {
    init(_ delivery: DeliveryRecord) {
        self.init(
            id: delivery.id.uuidString.lowercased(), endpointId: delivery.endpointID.uuidString.lowercased(),
            githubDelivery: delivery.githubDelivery, event: delivery.event, action: delivery.action,
            repository: delivery.repository, ref: delivery.ref,
            status: .init(rawValue: delivery.status.rawValue) ?? .failed, reason: delivery.reason,
            jobCount: delivery.jobCount, jobIds: delivery.jobIDs?.map { $0.uuidString.lowercased() },
            receivedAt: delivery.receivedAt, updatedAt: delivery.updatedAt)
    }
}
