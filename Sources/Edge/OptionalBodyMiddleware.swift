import HTTPTypes
import OpenAPIRuntime

/// An operation whose request body is optional (`rotateWebhookSecret`) gets no body at all when the
/// request carries none: Hummingbird hands the generated code an empty body, which it would try to decode
/// as JSON and refuse. Bodies are already read whole at the edge, so this costs no extra read.
package struct OptionalBodyMiddleware: ServerMiddleware {
    package static let operations: Set<String> = ["rotateWebhookSecret"]

    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Self.operations.contains(operationID), let body else { return try await next(request, body, metadata) }
        let bytes = try await ArraySlice<UInt8>(collecting: body, upTo: 1 << 20)
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}
