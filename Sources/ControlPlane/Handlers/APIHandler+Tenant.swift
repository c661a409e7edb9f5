import ControlPlaneAPI
import Foundation
import Tenancy

extension APIHandler {
    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let (_, tenantID) = try tenantCaller()
        let tenant = try await database.transaction(.tenant(tenantID)) { try await tenants.find(tenantID, on: $0) }
        guard let tenant else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(tenant))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        let (_, tenantID) = try tenantCaller()
        guard case .json(let change) = input.body else { throw APIError.invalid("Send application/json.") }
        let name = try change.name.map { try Validation.name($0, field: "name", maxLength: 200) }
        if let timezone = change.timezone { try Validation.timezone(timezone) }
        let entry = auditEntry("tenant.update", targetType: "tenant", targetID: tenantID.description)
        let tenant = try await database.transaction(.tenant(tenantID)) { connection -> Tenant? in
            guard let tenant = try await tenants.update(tenantID, name: name, timezone: change.timezone, on: connection)
            else { return nil }
            try await audit.record(entry, tenantID: tenantID, on: connection)
            return tenant
        }
        guard let tenant else { throw APIError.notFound("tenant") }
        return .ok(.init(body: .json(.init(tenant))))
    }

    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let (_, tenantID) = try tenantCaller()
        let (limit, cursor) = try page(limit: input.query.limit, cursor: input.query.cursor)
        let page = try await database.transaction(.tenant(tenantID)) {
            try await audit.list(tenantID: tenantID, limit: limit, after: cursor, on: $0)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor?.encoded))))
    }
}
