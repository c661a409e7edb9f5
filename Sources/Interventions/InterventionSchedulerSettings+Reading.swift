import Persistence
import Settings

extension InterventionSchedulerSettings {
    /// `CP_INTERVENTION_POLL_SECONDS` (30) between looks for due commitments and escalations,
    /// `CP_INTERVENTION_LEASE_SECONDS` (300) a worker holds one it works on, and `CP_INTERVENTION_TENANTS`
    /// (empty: every tenant), tenant ids it is limited to (a canary rollout).
    public init(_ reader: SettingsReader) throws {
        let names = reader.list("CP_INTERVENTION_TENANTS")
        self.init(
            pollInterval: try reader.seconds("CP_INTERVENTION_POLL_SECONDS", 30, 1...3600),
            lease: try reader.seconds("CP_INTERVENTION_LEASE_SECONDS", 300, 30...3600),
            tenants: names.isEmpty
                ? nil
                : try names.map {
                    guard let tenant = TenantID(string: $0) else {
                        throw ConfigurationError.invalid("CP_INTERVENTION_TENANTS", $0)
                    }
                    return tenant
                })
    }
}
