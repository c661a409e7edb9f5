/// Which rows a transaction may see, set transaction-locally before any statement runs. Every scope sets
/// both `app.tenant_id` and `app.operator`, so nothing a previous transaction on the connection set can
/// leak into this one.
public enum TransactionScope: Sendable {
    /// One tenant's rows (`app.tenant_id`).
    case tenant(TenantID)
    /// Every tenant's row in the `tenants` table, for verified operator tokens (`app.operator`). When a
    /// tenant is given, its rows in the other tables are reachable too (e.g. to write its audit log).
    case `operator`(actingOn: TenantID?)
    /// No tenant: platform tables only; every tenant table reads as empty.
    case platform
    /// Housekeeping across tenants (`app.maintenance`): only what the maintenance policies allow, such as
    /// deleting expired idempotency records.
    case maintenance

    /// The values of `app.tenant_id`, `app.operator` and `app.maintenance` for this scope.
    var settings: (tenantID: String, operator: String, maintenance: String) {
        switch self {
        case .tenant(let tenantID): (tenantID.description, "", "")
        case .operator(let tenantID): (tenantID?.description ?? "", "on", "")
        case .platform: ("", "", "")
        case .maintenance: ("", "", "on")
        }
    }
}
