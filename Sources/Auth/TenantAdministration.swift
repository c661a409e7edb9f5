import Foundation
import Persistence
import Tenancy

/// Changes to a tenant as a whole: its people rename it or move its time zone; an operator suspends,
/// reactivates or moves it to another plan, and every credential of a suspended tenant stops on every
/// replica within a second (the change is announced on the invalidation channel as it commits, and this
/// replica forgets the tenant's cached credentials before it answers). Each change is audited.
public struct TenantAdministration: Sendable {
    let database: Database
    let credentials: CredentialStateCache
    let tenants = TenantRepository()
    let audit = AuditLog()

    public init(database: Database, credentials: CredentialStateCache) {
        self.database = database
        self.credentials = credentials
    }

    static let notFound = Refusal.notFound("tenant")

    /// Renames the tenant (1 to 200 printable characters, trimmed) or moves its time zone (IANA); nil
    /// leaves a field as it is.
    public func update(name: String?, timezone: String?, tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws -> Tenant
    {
        let name = try name.map { try Validation.name($0, field: "name", maxLength: 200) }
        if let timezone { try Validation.timezone(timezone) }
        return try await database.withTenant(tenantID) { transaction in
            guard let tenant = try await tenants.update(name: name, timezone: timezone, in: transaction) else {
                throw Self.notFound
            }
            try await audit.record(
                caller.entry("tenant.update", targetType: "tenant", targetID: tenantID.description), in: transaction)
            return tenant
        }
    }

    /// An operator's change of status or plan; nil leaves it as it is.
    public func operatorUpdate(
        status: Tenant.Status?, plan: Tenant.Plan?, tenantID: TenantID, recordedAs caller: AuditLog.Caller
    ) async throws -> Tenant {
        let tenant = try await database.asOperator(actingOn: tenantID) { transaction in
            guard let tenant = try await tenants.operatorUpdate(status: status, plan: plan, in: transaction) else {
                throw Self.notFound
            }
            try await audit.record(
                caller.entry("tenant.admin_update", targetType: "tenant", targetID: tenantID.description),
                in: transaction)
            try await ApiKeyRepository.announce("tenant:\(tenantID)", on: transaction.connection)
            return tenant
        }
        credentials.invalidate(tenant: tenantID)
        return tenant
    }
}
