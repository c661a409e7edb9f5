import HTTPTypes
import OpenAPIRuntime

/// The generated code percent-encodes every header value it writes (swift-openapi-generator #529, #857),
/// which turns a redirect's absolute URL into a relative path. This writes the `Location` of the
/// redirecting operations back as the URL the handler made.
package struct RedirectLocationMiddleware: ServerMiddleware {
    package static let operations: Set<String> = ["startGitHubSignIn", "finishGitHubSignIn"]

    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, body) = try await next(request, body, metadata)
        if Self.operations.contains(operationID), let location = response.headerFields[.location],
            let decoded = location.removingPercentEncoding
        {
            response.headerFields[.location] = decoded
        }
        return (response, body)
    }
}
