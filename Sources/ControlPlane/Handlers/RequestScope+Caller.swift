import Auth
import Persistence
import Tenancy

extension RequestScope {
    /// The scope of the request being handled (an empty one outside a request, e.g. in unit tests).
    static var now: RequestScope { current ?? RequestScope(requestID: "", clientAddress: "unknown") }

    /// The calling tenant credential; the authentication middleware guarantees one on tenant routes.
    func tenantCaller() throws -> (principal: Principal, tenantID: TenantID) {
        guard let principal, let tenantID = principal.tenantID else { throw APIError.unauthenticated() }
        return (principal, tenantID)
    }

    /// An audit entry for the authenticated caller; a request without one records nothing.
    func auditEntry(_ action: String, targetType: String, targetID: String, details: [String: String] = [:]) throws
        -> AuditLog.Entry
    {
        guard let actor = principal?.auditActor else { throw APIError.unauthenticated() }
        return AuditLog.Entry(
            actorType: actor.type, actorID: actor.id, action: action, targetType: targetType, targetID: targetID,
            requestID: requestID, clientAddress: clientAddress, details: details)
    }
}
