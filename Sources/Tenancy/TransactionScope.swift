/// Which rows a transaction may see, set transaction-locally before any statement runs.
public enum TransactionScope: Sendable {
    /// One tenant's rows (`app.tenant_id`).
    case tenant(TenantID)
    /// Every tenant's row in the `tenants` table, for verified operator tokens (`app.operator`). When a
    /// tenant is given, its rows in the other tables are reachable too (e.g. to write its audit log).
    case `operator`(actingOn: TenantID?)
    /// No tenant: platform tables only; every tenant table reads as empty.
    case platform
}
