import Auth
import Persistence
import Tenancy

extension RequestScope {
    /// The scope of the request being handled (an empty one outside a request, e.g. in unit tests).
    package static var now: RequestScope { current ?? RequestScope(requestID: "", clientAddress: "unknown") }

    /// The calling tenant credential; the authentication middleware guarantees one on tenant routes.
    package func tenantCaller() throws -> (principal: Principal, tenantID: TenantID) {
        guard let principal, let tenantID = principal.tenantID else { throw APIError.unauthenticated() }
        return (principal, tenantID)
    }

    /// The authenticated caller as the audit log records it; a request without one records nothing.
    package func auditCaller() throws -> AuditLog.Caller {
        guard let actor = principal?.auditActor else { throw APIError.unauthenticated() }
        return AuditLog.Caller(
            actorType: actor.type, actorID: actor.id, requestID: requestID, clientAddress: clientAddress)
    }

    /// An audit entry for the authenticated caller; a request without one records nothing.
    package func auditEntry(_ action: String, targetType: String, targetID: String, details: [String: String] = [:])
        throws
        -> AuditLog.Entry
    {
        try auditCaller().entry(action, targetType: targetType, targetID: targetID, details: details)
    }
}
