import Foundation
import Jobs
import Persistence
import Tenancy

/// A tenant's webhook endpoints changed by its people: what an endpoint runs (1 to 3 different pipelines)
/// and for which repositories (at most 1000 `owner/name` entries, none repeated), turned on or off, deleted
/// (its route goes with it) or given a new secret, the old one accepted for a grace period of at most 7
/// days. Each change is audited in its transaction. A secret leaves the server only in what `create` and
/// `rotate` answer.
public struct EndpointAdministration: Sendable {
    let database: Database
    let endpoints: WebhookEndpointStore
    let audit = AuditLog()

    public init(database: Database, endpoints: WebhookEndpointStore) {
        self.database = database
        self.endpoints = endpoints
    }

    /// The longest grace period of a rotated secret, in seconds (7 days).
    public static let graceRange = 0...604_800
    /// The grace period when the caller names none: a day.
    public static let defaultGrace = 86_400
    /// An endpoint that is not this tenant's reads as one that does not exist.
    static let notFound = Refusal.notFound("webhook endpoint")

    /// The pipelines an endpoint runs, in their order; refused unless 1 to 3 different ones.
    public static func pipelines(_ requested: [Pipeline]) throws -> [Pipeline] {
        guard (1...3).contains(requested.count), Set(requested).count == requested.count else {
            throw Refusal.invalid("pipelines must name 1 to 3 different pipelines.")
        }
        return requested.sorted()
    }

    /// The repositories an endpoint is limited to (none: all of them).
    public static func repositories(_ requested: [String]) throws -> [String] {
        guard requested.count <= 1000 else { throw Refusal.invalid("repositories holds at most 1000 entries.") }
        for name in requested where GitHubPayload.repositoryName(name) == nil || name.count < 3 {
            throw Refusal.invalid("repositories entries must be owner/name (letters, digits, '_', '.', '-').")
        }
        guard Set(requested).count == requested.count else {
            throw Refusal.invalid("repositories must not repeat an entry.")
        }
        return requested
    }

    /// What a new endpoint runs and for which repositories, checked before any transaction opens.
    public struct Routing: Sendable {
        public let pipelines: [Pipeline]
        public let repositories: [String]

        public init(pipelines: [Pipeline], repositories: [String]) throws {
            self.pipelines = try EndpointAdministration.pipelines(pipelines)
            self.repositories = try EndpointAdministration.repositories(repositories)
        }
    }

    /// Makes an endpoint in `transaction` (which an idempotent creation may hold); answers it with its
    /// secret.
    public func create(
        id: UUID, routing: Routing, active: Bool, recordedAs caller: AuditLog.Caller, in transaction: TenantTransaction
    ) async throws -> (endpoint: WebhookEndpoint, secret: String) {
        let created = try await endpoints.create(
            id: id, pipelines: routing.pipelines, repositories: routing.repositories, active: active, in: transaction)
        try await audit.record(
            caller.entry("webhook.create", targetType: Self.target, targetID: id.text), in: transaction)
        return created
    }

    /// Changes what is given (nil leaves it as it is).
    public func update(
        _ id: UUID, pipelines: [Pipeline]?, repositories: [String]?, active: Bool?, tenantID: TenantID,
        recordedAs caller: AuditLog.Caller
    ) async throws -> WebhookEndpoint {
        let pipelines = try pipelines.map(Self.pipelines)
        let repositories = try repositories.map(Self.repositories)
        return try await database.withTenant(tenantID) { transaction in
            guard
                let endpoint = try await endpoints.update(
                    id, pipelines: pipelines, repositories: repositories, active: active, in: transaction)
            else { throw Self.notFound }
            try await audit.record(
                caller.entry("webhook.update", targetType: Self.target, targetID: id.text), in: transaction)
            return endpoint
        }
    }

    /// Deletes an endpoint: deliveries to its URL are refused from then on.
    public func delete(_ id: UUID, tenantID: TenantID, recordedAs caller: AuditLog.Caller) async throws {
        try await database.withTenant(tenantID) { transaction in
            guard try await endpoints.delete(id, in: transaction) else { throw Self.notFound }
            try await audit.record(
                caller.entry("webhook.delete", targetType: Self.target, targetID: id.text), in: transaction)
        }
    }

    /// Gives an endpoint a new secret; the old one is accepted for `graceSeconds` more (default a day).
    public func rotate(_ id: UUID, graceSeconds: Int?, tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws -> (endpoint: WebhookEndpoint, secret: String)
    {
        let grace = graceSeconds ?? Self.defaultGrace
        guard Self.graceRange.contains(grace) else { throw Refusal.invalid("grace_seconds must be 0 to 604800.") }
        return try await database.withTenant(tenantID) { transaction in
            guard let rotated = try await endpoints.rotate(id, grace: grace, in: transaction) else {
                throw Self.notFound
            }
            try await audit.record(
                caller.entry("webhook.rotate_secret", targetType: Self.target, targetID: id.text), in: transaction)
            return rotated
        }
    }

    static let target = "webhook_endpoint"
}
