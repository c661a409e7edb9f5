import HTTPTypes
import OpenAPIRuntime

/// OpenAI's clients send `Accept: application/json` even when they ask for a stream; the generated code
/// would refuse to answer such a request with `text/event-stream`. For chat completions, the body
/// (`stream: true`) decides, so the stream's media type is added to what the request accepts.
package struct EventStreamAcceptMiddleware: ServerMiddleware {
    package static let operations: Set<String> = ["createChatCompletion"]

    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Self.operations.contains(operationID), let accept = request.headerFields[.accept],
            !accept.localizedCaseInsensitiveContains("text/event-stream"), !accept.contains("*/*")
        else { return try await next(request, body, metadata) }
        var request = request
        request.headerFields[.accept] = accept + ", text/event-stream"
        return try await next(request, body, metadata)
    }
}
