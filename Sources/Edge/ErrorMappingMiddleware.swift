import Auth
import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime

/// The outermost OpenAPI middleware: turns every error into a problem response. Requests the generated
/// code could not decode are the client's fault (400, or 413 for an oversized body); a handler's
/// `APIError` is answered as is; anything else is logged with the request id and answered as a bare 500
/// that leaks nothing.
package struct ErrorMappingMiddleware: ServerMiddleware {
    /// The problem for an error of a domain module (the composition root's table); nil for the others.
    package let domainProblem: @Sendable (any Error) -> APIError?
    package let logger: Logger

    package init(domainProblem: @escaping @Sendable (any Error) -> APIError?, logger: Logger) {
        self.domainProblem = domainProblem
        self.logger = logger
    }

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch {
            return response(for: error, operationID: operationID)
        }
    }

    /// The problem response for `error`.
    package func response(for error: any Error, operationID: String) -> (HTTPResponse, HTTPBody) {
        let problem = map(error, operationID: operationID)
        let requestID = RequestScope.current?.requestID ?? ""
        return (
            HTTPResponse(status: .init(code: problem.status), headerFields: problem.headerFields),
            HTTPBody(problem.body(requestID: requestID))
        )
    }

    package func map(_ error: any Error, operationID: String) -> APIError {
        if let error = error as? APIError { return error }
        if let problem = domainProblem(error) { return problem }
        if let error = error as? ServerError {
            if let apiError = Self.find(APIError.self, in: error.underlyingError) { return apiError }
            if let problem = domainProblem(error.underlyingError) { return problem }
            // A middleware's own failure is not the client's fault, whatever stage it happened at.
            if error.operationInput == nil, !error.causeDescription.hasPrefix("Middleware of type") {
                // The generated code failed to decode the request: malformed JSON, wrong types, missing
                // or unknown fields, a bad parameter or content type.
                return Self.clientProblem(of: error)
            }
            logger.error(
                "handler failed",
                metadata: ["operation": "\(operationID)", "error": .string(String(reflecting: error.underlyingError))])
            return .internal
        }
        logger.error(
            "request failed", metadata: ["operation": "\(operationID)", "error": .string(String(reflecting: error))])
        return .internal
    }

    private static func find<E: Error>(_ type: E.Type, in error: any Error) -> E? {
        if let match = error as? E { return match }
        if let server = error as? ServerError { return find(type, in: server.underlyingError) }
        return nil
    }

    /// A short, safe problem for a request that could not be decoded: field paths and expectations, never
    /// values. A body member that is missing or wrong is also named by a JSON Pointer in `errors`, so a
    /// client can show the problem at its field. A failure with no path is a parameter's or the body's as a
    /// whole: JSON that does not parse says so; anything else is a query or path parameter.
    package static func clientProblem(of error: ServerError) -> APIError {
        if let decoding = error.underlyingError as? DecodingError {
            switch decoding {
            case .keyNotFound(let key, let context):
                return atField(context.codingPath + [key]) { "Missing field '\($0)'." }
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                if context.codingPath.isEmpty { return .invalid("A query or path parameter has the wrong type.") }
                return atField(context.codingPath) { "Field '\($0)' has the wrong type." }
            case .dataCorrupted(let context):
                if context.codingPath.isEmpty {
                    if context.underlyingError != nil || context.debugDescription.contains("JSON") {
                        return .invalid("The body is not valid JSON.")
                    }
                    return .invalid("A query or path parameter has a value this operation does not take.")
                }
                return atField(context.codingPath) {
                    "Field '\($0)' is invalid: \(context.debugDescription.prefix(200))"
                }
            @unknown default:
                return .invalid("The request body could not be decoded.")
            }
        }
        let cause = error.causeDescription
        if cause.localizedCaseInsensitiveContains("content type") {
            return .invalid("Unsupported or missing content type; send application/json.")
        }
        if cause.localizedCaseInsensitiveContains("body") {
            return .invalid("The request body is missing or malformed.")
        }
        return .invalid("The request could not be decoded: \(cause.prefix(200))")
    }

    /// The problem about the body member at `codingPath`, described by `detail` of its dotted path.
    private static func atField(_ codingPath: [any CodingKey], _ detail: (String) -> String) -> APIError {
        .invalid(detail(path(codingPath)), at: JSONPointer.to(codingPath))
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
