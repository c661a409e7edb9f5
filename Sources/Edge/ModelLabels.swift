import Persistence
import Synchronization

/// Model names as metric labels. Tenants choose them (any string a policy or a call names), so each
/// tenant gets at most `perTenant` distinct values per replica, later ones counted as `other`, and each
/// value is cut to 64 characters: one tenant cycling through model names cannot grow `/metrics` (and
/// this process's memory) without bound. Label values are escaped by the registry when written.
package final class ModelLabels: Sendable {
    package static let other = "other"
    package static let maximumLength = 64

    package let perTenant: Int
    private let seen = Mutex<[TenantID: Set<String>]>([:])

    package init(perTenant: Int) {
        self.perTenant = perTenant
    }

    /// The label to count `model` under for `tenant`.
    package func label(_ model: String, tenant: TenantID) -> String {
        let value = String(model.prefix(Self.maximumLength))
        return seen.withLock { seen in
            if seen[tenant, default: []].contains(value) { return value }
            guard seen[tenant, default: []].count < perTenant else { return Self.other }
            seen[tenant, default: []].insert(value)
            return value
        }
    }
}
