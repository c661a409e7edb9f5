import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Jobs
import Persistence
import Tenancy
import Webhooks

/// The tenant's webhook endpoints over HTTP: list, read, create, change, delete, rotate the secret. The
/// rules are `EndpointAdministration`'s.
struct WebhooksHandler: Sendable {
    let database: Database
    let paging: Paging
    let idempotency: IdempotentCreation
    let endpoints: WebhookEndpointStore
    /// The rules of changing endpoints.
    let administration: EndpointAdministration

    func listWebhookEndpoints(_ input: Operations.ListWebhookEndpoints.Input) async throws
        -> Operations.ListWebhookEndpoints.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let list = "webhooks:\(tenantID)"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await endpoints.list(limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func getWebhookEndpoint(_ input: Operations.GetWebhookEndpoint.Input) async throws
        -> Operations.GetWebhookEndpoint.Output
    {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        guard let endpoint = try await database.withTenant(tenantID, { try await endpoints.find(id, in: $0) }) else {
            throw APIError.notFound("webhook endpoint")
        }
        return .ok(.init(body: .json(.init(endpoint))))
    }

    func createWebhookEndpoint(_ input: Operations.CreateWebhookEndpoint.Input) async throws
        -> Operations.CreateWebhookEndpoint.Output
    {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let routing = try EndpointAdministration.Routing(
            pipelines: Self.pipelines(request.pipelines), repositories: request.repositories ?? [])
        let claim = try idempotency.claim(
            key: input.headers.idempotencyKey, operation: "createWebhookEndpoint", request: request)
        let caller = try scope.auditCaller()
        let created = try await database.withTenant(tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedWebhookEndpoint) in
                    guard let storedID = UUID(uuidString: stored.id) else { return false }
                    return try await endpoints.find(storedID, in: transaction) != nil
                }
            ) {
                let (endpoint, secret) = try await administration.create(
                    id: UUID(), routing: routing, active: request.active ?? true, recordedAs: caller, in: transaction)
                return Components.Schemas.CreatedWebhookEndpoint(endpoint, secret: secret)
            }
        }
        return .created(.init(body: .json(created)))
    }

    func updateWebhookEndpoint(_ input: Operations.UpdateWebhookEndpoint.Input) async throws
        -> Operations.UpdateWebhookEndpoint.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let updated = try await administration.update(
            id, pipelines: change.pipelines.map(Self.pipelines), repositories: change.repositories,
            active: change.active, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteWebhookEndpoint(_ input: Operations.DeleteWebhookEndpoint.Input) async throws
        -> Operations.DeleteWebhookEndpoint.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        try await administration.delete(id, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .noContent(.init())
    }

    func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws
        -> Operations.RotateWebhookSecret.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        var grace: Int?
        if case .json(let request) = input.body { grace = request.graceSeconds }
        let rotated = try await administration.rotate(
            id, graceSeconds: grace, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(rotated.endpoint, secret: rotated.secret))))
    }

    /// Another tenant's endpoint and a malformed id answer alike: 404.
    static func endpointID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw APIError.notFound("webhook endpoint") }
        return id
    }

    static func pipelines(_ requested: [Components.Schemas.Pipeline]) -> [Pipeline] {
        requested.compactMap { Pipeline(rawValue: $0.rawValue) }
    }
}

extension Components.Schemas.WebhookEndpoint {
    init(_ endpoint: WebhookEndpoint) {
        self.init(
            id: endpoint.id.uuidString.lowercased(), provider: .github, url: endpoint.path,
            pipelines: endpoint.pipelines.compactMap { .init(rawValue: $0.rawValue) },
            repositories: endpoint.repositories, active: endpoint.active, createdAt: endpoint.createdAt,
            updatedAt: endpoint.updatedAt, secretRotatedAt: endpoint.secretRotatedAt,
            previousSecretExpiresAt: endpoint.previousSecretExpiresAt)
    }
}

extension Components.Schemas.CreatedWebhookEndpoint {
    init(_ endpoint: WebhookEndpoint, secret: String) {
        self.init(
            id: endpoint.id.uuidString.lowercased(), provider: .github, url: endpoint.path, secret: secret,
            pipelines: endpoint.pipelines.compactMap { .init(rawValue: $0.rawValue) },
            repositories: endpoint.repositories, active: endpoint.active, createdAt: endpoint.createdAt,
            updatedAt: endpoint.updatedAt, secretRotatedAt: endpoint.secretRotatedAt,
            previousSecretExpiresAt: endpoint.previousSecretExpiresAt)
    }
}
