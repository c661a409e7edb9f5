import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Jobs
import Persistence
import Tenancy
import Webhooks

/// The tenant's webhook endpoints: list, read, create, change, delete, rotate the secret. A secret leaves
/// the server only in the answers of create and rotate.
struct WebhooksHandler: Sendable {
    let database: Database
    let paging: Paging
    let idempotency: IdempotentCreation
    let endpoints: WebhookEndpointStore
    let audit = AuditLog()
    /// Longest grace period of a rotated secret (7 days), and the default one.
    static let graceRange = 0...604_800
    static let defaultGrace = 86_400

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
        let pipelines = try Self.pipelines(request.pipelines)
        let repositories = try Self.repositories(request.repositories ?? [])
        let id = UUID()
        let claim = try idempotency.claim(
            key: input.headers.idempotencyKey, operation: "createWebhookEndpoint", request: request)
        let entry = try scope.auditEntry(
            "webhook.create", targetType: "webhook_endpoint", targetID: id.uuidString.lowercased())
        let created = try await database.withTenant(tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedWebhookEndpoint) in
                    guard let storedID = UUID(uuidString: stored.id) else { return false }
                    return try await endpoints.find(storedID, in: transaction) != nil
                }
            ) {
                let (endpoint, secret) = try await endpoints.create(
                    id: id, pipelines: pipelines, repositories: repositories, active: request.active ?? true,
                    in: transaction)
                try await audit.record(entry, in: transaction)
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
        let pipelines = try change.pipelines.map(Self.pipelines)
        let repositories = try change.repositories.map(Self.repositories)
        let entry = try scope.auditEntry(
            "webhook.update", targetType: "webhook_endpoint", targetID: id.uuidString.lowercased())
        let updated = try await database.withTenant(tenantID) { transaction -> WebhookEndpoint? in
            guard
                let endpoint = try await endpoints.update(
                    id, pipelines: pipelines, repositories: repositories, active: change.active, in: transaction)
            else { return nil }
            try await audit.record(entry, in: transaction)
            return endpoint
        }
        guard let updated else { throw APIError.notFound("webhook endpoint") }
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteWebhookEndpoint(_ input: Operations.DeleteWebhookEndpoint.Input) async throws
        -> Operations.DeleteWebhookEndpoint.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        let entry = try scope.auditEntry(
            "webhook.delete", targetType: "webhook_endpoint", targetID: id.uuidString.lowercased())
        try await database.withTenant(tenantID) { transaction in
            guard try await endpoints.delete(id, in: transaction) else { throw APIError.notFound("webhook endpoint") }
            try await audit.record(entry, in: transaction)
        }
        return .noContent(.init())
    }

    func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws
        -> Operations.RotateWebhookSecret.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        let id = try Self.endpointID(input.path.endpointId)
        var grace = Self.defaultGrace
        if case .json(let request) = input.body, let requested = request.graceSeconds {
            guard Self.graceRange.contains(requested) else {
                throw APIError.invalid("grace_seconds must be 0 to 604800.")
            }
            grace = requested
        }
        let entry = try scope.auditEntry(
            "webhook.rotate_secret", targetType: "webhook_endpoint", targetID: id.uuidString.lowercased())
        let rotated = try await database.withTenant(tenantID) { transaction in
            guard let rotated = try await endpoints.rotate(id, grace: grace, in: transaction) else {
                throw APIError.notFound("webhook endpoint")
            }
            try await audit.record(entry, in: transaction)
            return rotated
        }
        return .ok(.init(body: .json(.init(rotated.endpoint, secret: rotated.secret))))
    }

    /// Another tenant's endpoint and a malformed id answer alike: 404.
    static func endpointID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw APIError.notFound("webhook endpoint") }
        return id
    }

    static func pipelines(_ requested: [Components.Schemas.Pipeline]) throws -> [Pipeline] {
        let pipelines = requested.compactMap { Pipeline(rawValue: $0.rawValue) }
        guard (1...3).contains(pipelines.count), Set(pipelines).count == pipelines.count else {
            throw APIError.invalid("pipelines must name 1 to 3 different pipelines.")
        }
        return pipelines.sorted()
    }

    static func repositories(_ requested: [String]) throws -> [String] {
        guard requested.count <= 1000 else { throw APIError.invalid("repositories holds at most 1000 entries.") }
        for name in requested where GitHubPayload.repositoryName(name) == nil || name.count < 3 {
            throw APIError.invalid("repositories entries must be owner/name (letters, digits, '_', '.', '-').")
        }
        guard Set(requested).count == requested.count else {
            throw APIError.invalid("repositories must not repeat an entry.")
        }
        return requested
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
