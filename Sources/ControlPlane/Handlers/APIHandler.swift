import Auth
import ControlPlaneAPI
import Foundation
import RedisClient
import Tenancy

/// Implements every operation of `openapi.yaml`. One extension per area (`APIHandler+Keys.swift`, ...);
/// authentication already happened in `AuthenticationMiddleware`, so handlers read the principal from
/// `RequestScope` and pass the tenant explicitly to every repository call.
struct APIHandler: APIProtocol {
    let configuration: Configuration
    let database: Database
    let redis: RedisClient
    let issuer: TokenIssuer
    let authenticator: Authenticator
    let hasher: PasswordHasher
    /// Verified against when an email is unknown, so that case costs what a wrong password costs.
    let decoyPasswordHash: String
    let idempotency: IdempotencyStore
    let signupThrottle: FixedWindowThrottle
    let loginThrottle: FixedWindowThrottle
    let metrics: HTTPMetrics

    let tenants = TenantRepository()
    let users = UserRepository()
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    var scope: RequestScope { RequestScope.current ?? RequestScope(requestID: "", clientAddress: "unknown") }

    /// The calling tenant credential; the middleware guarantees one on tenant routes.
    func tenantCaller() throws -> (principal: Principal, tenantID: TenantID) {
        guard let principal = scope.principal, let tenantID = principal.tenantID else { throw APIError.unauthenticated() }
        return (principal, tenantID)
    }

    /// An audit entry for the current caller.
    func auditEntry(_ action: String, targetType: String, targetID: String) -> AuditLog.Entry {
        let actor = scope.principal?.auditActor ?? (.operator, "unknown")
        return AuditLog.Entry(
            actorType: actor.type, actorID: actor.id, action: action, targetType: targetType, targetID: targetID,
            requestID: scope.requestID)
    }

    /// Validates `?limit=` and `?cursor=`.
    func page(limit: Int?, cursor: String?) throws -> (limit: Int, cursor: PageCursor?) {
        let limit = limit ?? 50
        guard (1...100).contains(limit) else { throw APIError.invalid("limit must be between 1 and 100.") }
        guard let cursor else { return (limit, nil) }
        guard let decoded = PageCursor(encoded: cursor) else { throw APIError.invalid("cursor is not valid.") }
        return (limit, decoded)
    }
}
