import Persistence
import Providers
import Synchronization

/// A tenant's policy (decoded) and credentials (opened) as a replica last read them, with what identifies
/// them in Postgres: `llm_call_begin` checks both against the database in the same statement that
/// reserves, so a held plan that has changed is never used; it is read again instead.
struct HeldPlan: Sendable {
    let version: Int
    let policy: LLMPolicy
    let credentialsDigest: String
    let credentials: [ProviderKind: CredentialRepository.Credential]
}

/// The plans this replica holds, one per tenant that called recently; bounded (when full it starts over,
/// which costs each tenant one plan read).
final class HeldPlans: Sendable {
    private let plans = Mutex<[TenantID: HeldPlan]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func plan(for tenantID: TenantID) -> HeldPlan? {
        plans.withLock { $0[tenantID] }
    }

    func keep(_ plan: HeldPlan, for tenantID: TenantID) {
        plans.withLock { plans in
            if plans.count >= capacity, plans[tenantID] == nil { plans.removeAll(keepingCapacity: true) }
            plans[tenantID] = plan
        }
    }

    func forget(_ tenantID: TenantID) {
        _ = plans.withLock { $0.removeValue(forKey: tenantID) }
    }
}
