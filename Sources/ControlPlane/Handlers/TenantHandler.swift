import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The caller's own tenant, its members and its audit log.
struct TenantHandler: Sendable {
    let database: Database
    let paging: Paging
    /// The rules of changing the tenant.
    let administration: TenantAdministration
    let tenants = TenantRepository()
    let users = UserRepository()
    let audit = AuditLog()

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let tenant = try await tenants.read(tenantID, from: database) else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(tenant))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let tenant = try await administration.update(
            name: change.name, timezone: change.timezone, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .ok(.init(body: .json(.init(tenant))))
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let list = "audit:\(tenantID)"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await audit.list(limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let list = "users:\(tenantID)"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
        ) { limit, cursor, transaction in
            try await users.list(limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }
}
