import Auth
import ControlPlaneAPI
import Foundation
import Tenancy

extension APIHandler {
    func listAdminTenants(_ input: Operations.ListAdminTenants.Input) async throws -> Operations.ListAdminTenants.Output {
        let (limit, cursor) = try page(limit: input.query.limit, cursor: input.query.cursor)
        let status = input.query.status.flatMap { Tenant.Status(rawValue: $0.rawValue) }
        let page = try await database.transaction(.operator(actingOn: nil)) {
            try await tenants.list(status: status, limit: limit, after: cursor, on: $0)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor?.encoded))))
    }

    func getAdminTenant(_ input: Operations.GetAdminTenant.Input) async throws -> Operations.GetAdminTenant.Output {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        let tenant = try await database.transaction(.operator(actingOn: tenantID)) { try await tenants.find(tenantID, on: $0) }
        guard let tenant else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(tenant))))
    }

    func updateAdminTenant(_ input: Operations.UpdateAdminTenant.Input) async throws -> Operations.UpdateAdminTenant.Output {
        guard let tenantID = TenantID(string: input.path.tenantId) else { throw APIError.notFound("tenant") }
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let status = change.status.flatMap { Tenant.Status(rawValue: $0.rawValue) }
        let plan = change.plan.flatMap { Tenant.Plan(rawValue: $0.rawValue) }
        let entry = auditEntry("tenant.admin_update", targetType: "tenant", targetID: tenantID.description)
        let tenant = try await database.transaction(.operator(actingOn: tenantID)) { connection -> Tenant? in
            guard let tenant = try await tenants.update(tenantID, status: status, plan: plan, on: connection) else {
                return nil
            }
            try await audit.record(entry, tenantID: tenantID, on: connection)
            try await ApiKeyRepository.announce("tenant:\(tenantID)", on: connection)
            return tenant
        }
        guard let tenant else { throw APIError.notFound("tenant") }
        authenticator.credentials.invalidate(tenant: tenantID)
        return .ok(.init(body: .json(.init(tenant))))
    }
}
