import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The operator routes under `/v1/admin`.
struct AdminHandler: Sendable {
    let database: Database
    let paging: Paging
    /// The rules of changing a tenant.
    let administration: TenantAdministration
    let tenants = TenantRepository()
    private static let list = "admin:tenants"

    func listAdminTenants(_ input: Operations.ListAdminTenants.Input) async throws -> Operations.ListAdminTenants.Output
    {
        let (limit, cursor) = try paging.request(limit: input.query.limit, cursor: input.query.cursor, list: Self.list)
        let status = input.query.status.flatMap { Tenant.Status(rawValue: $0.rawValue) }
        let page = try await database.transaction(.operator(actingOn: nil)) {
            try await tenants.list(status: status, limit: limit, after: cursor, on: $0)
        }
        return .ok(
            .init(
                body: .json(.init(items: page.items.map { .init($0) }, nextCursor: paging.next(page, list: Self.list))))
        )
    }

    func getAdminTenant(_ input: Operations.GetAdminTenant.Input) async throws -> Operations.GetAdminTenant.Output {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        let tenant = try await database.asOperator(actingOn: tenantID) { try await tenants.find(in: $0) }
        guard let tenant else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(tenant))))
    }

    func updateAdminTenant(_ input: Operations.UpdateAdminTenant.Input) async throws
        -> Operations.UpdateAdminTenant.Output
    {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let status = change.status.flatMap { Tenant.Status(rawValue: $0.rawValue) }
        let plan = change.plan.flatMap { Tenant.Plan(rawValue: $0.rawValue) }
        let tenant = try await administration.operatorUpdate(
            status: status, plan: plan, tenantID: tenantID, recordedAs: try RequestScope.now.auditCaller())
        return .ok(.init(body: .json(.init(tenant))))
    }
}
