import HTTPTypes
import OpenAPIRuntime

/// Holds API calls until the startup checks have passed (`StartupGate`): they wait up to `wait` (as long
/// as a statement may take), or not at all while the database is known to be unreachable, then get a 503
/// problem with `Retry-After`. Liveness, readiness and metrics answer at once.
package struct StartupGateMiddleware: ServerMiddleware {
    package static let ungated: Set<String> = ["getHealth", "getReadiness", "getMetrics"]

    package let gate: StartupGate
    package let wait: Duration

    package init(gate: StartupGate, wait: Duration) {
        self.gate = gate
        self.wait = wait
    }

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let open = Self.ungated.contains(operationID) ? true : await gate.waitOpen(atMost: wait)
        guard open else {
            throw APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "The server is starting and cannot reach its database yet; try again shortly.", retryAfter: 2)
        }
        return try await next(request, body, metadata)
    }
}
