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

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A person's role in a tenant; a login access token carries the role's scopes.
public enum Role: String, Sendable, CaseIterable {
    case owner, admin, member

    public var scopes: Set<Scope> {
        switch self {
        case .owner:
            Set(Scope.allCases)
        case .admin:
            Set(Scope.allCases).subtracting([.billingWrite])
        case .member:
            [.tenantRead, .keysRead, .billingRead, .webhooksRead, .jobsRead, .jobsWrite, .policyRead, .llmInvoke]
        }
    }
}
