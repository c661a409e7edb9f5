/// A permission an API key or access token carries.
public enum Scope: String, Sendable, CaseIterable, Codable, Comparable {
    case tenantRead = "tenant:read"
    case tenantAdmin = "tenant:admin"
    case keysRead = "keys:read"
    case keysWrite = "keys:write"
    case billingRead = "billing:read"
    case billingWrite = "billing:write"
    case webhooksRead = "webhooks:read"
    case webhooksWrite = "webhooks:write"
    case jobsRead = "jobs:read"
    case jobsWrite = "jobs:write"
    case policyRead = "policy:read"
    case policyWrite = "policy:write"
    case llmInvoke = "llm:invoke"
    case auditRead = "audit:read"
    case interventionsRead = "interventions:read"
    case interventionsWrite = "interventions:write"
    /// Reporting an intervention's outcome, and nothing else: the scope of a chat bot's key.
    case interventionsOutcome = "interventions:outcome"

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A person's role in a tenant; a login access token carries the role's scopes. `owner` and `admin`
/// hold every scope (only the owner may hand ownership on); `member` reads and calls the LLM gateway.
/// A tenant always has exactly one owner.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case owner, admin, member

    public var scopes: Set<Scope> {
        switch self {
        case .owner, .admin:
            Set(Scope.allCases)
        case .member:
            Set(Scope.allCases.filter { $0.rawValue.hasSuffix(":read") }).union([.llmInvoke])
        }
    }

    /// Owner above admin above member: no one grants a role above their own.
    var rank: Int {
        switch self {
        case .owner: 3
        case .admin: 2
        case .member: 1
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}
