import Auth
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Authenticates every operation that needs it and binds the principal into `RequestScope`. Tenant
/// routes need a tenant credential with the operation's scope; admin routes need an operator token;
/// neither kind reaches the other's routes.
struct AuthenticationMiddleware: ServerMiddleware {
    let authenticator: Authenticator

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let access = OperationAccess.table[operationID] else {
            throw APIError.forbidden("This operation is not available.")
        }
        if access == .anyone { return try await next(request, body, metadata) }

        guard let header = request.headerFields[.authorization], header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { throw APIError.unauthenticated() }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)

        let principal = try await authenticator.authenticate(token)

        switch access {
        case .anyone:
            break
        case .operator:
            guard principal.isOperator else { throw APIError.forbidden("This route needs an operator token.") }
        case .tenant(let scope):
            guard !principal.isOperator, principal.tenantID != nil else {
                throw APIError.forbidden("Operator tokens cannot reach tenant routes.")
            }
            guard principal.scopes.contains(scope) else {
                throw APIError.forbidden("This route needs the scope \(scope.rawValue).")
            }
        }

        var scope = RequestScope.now
        scope.principal = principal
        return try await RequestScope.$current.withValue(scope) {
            try await next(request, body, metadata)
        }
    }
}
