import Foundation
import HTTPTypes
import OpenAPIRuntime

/// A failure answered as RFC 9457 `application/problem+json` with one of the SPEC's `code`s. Handlers
/// and middleware throw it; everything else is mapped to it in one place (`ErrorMappingMiddleware`).
public struct APIError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case unauthenticated
        case forbidden
        case notFound = "not_found"
        case conflict
        case rateLimited = "rate_limited"
        case budgetExhausted = "budget_exhausted"
        case payloadTooLarge = "payload_too_large"
        case signatureInvalid = "signature_invalid"
        case tenantSuspended = "tenant_suspended"
        case unavailable
        case `internal`
    }

    public let status: Int
    public let code: Code
    public let title: String
    public let detail: String
    public var retryAfter: Int?
    /// Further members of the problem document (RFC 9457 extension members), e.g. the limit that was hit.
    public var extensions: [String: Extension] = [:]
    /// What is wrong where, for a request body a client can point at (the `errors` member).
    public var errors: [FieldError] = []

    /// One thing wrong with a request body, at a JSON Pointer (RFC 6901) into it.
    public struct FieldError: Sendable, Equatable {
        public let pointer: String
        public let detail: String

        public init(pointer: String, detail: String) {
            self.pointer = pointer
            self.detail = detail
        }
    }

    /// The value of one extension member.
    public enum Extension: Sendable, Equatable {
        case integer(Int64)
        case string(String)

        var json: Any {
            switch self {
            case .integer(let value): value
            case .string(let value): value
            }
        }
    }

    public init(status: Int, code: Code, title: String, detail: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public static func invalid(_ detail: String) -> APIError {
        APIError(status: 400, code: .invalidRequest, title: "Invalid request", detail: detail)
    }
    /// A 400 about the member of the body at `pointer` (a JSON Pointer), listed in `errors` too.
    public static func invalid(_ detail: String, at pointer: String) -> APIError {
        var error = APIError.invalid(detail)
        error.errors = [FieldError(pointer: pointer, detail: detail)]
        return error
    }
    public static func unauthenticated(_ detail: String = "A valid bearer token is required.") -> APIError {
        APIError(status: 401, code: .unauthenticated, title: "Unauthenticated", detail: detail)
    }
    public static func forbidden(_ detail: String) -> APIError {
        APIError(status: 403, code: .forbidden, title: "Forbidden", detail: detail)
    }
    public static let tenantSuspended = APIError(
        status: 403, code: .tenantSuspended, title: "Tenant suspended",
        detail: "This organisation is suspended; contact the platform operator.")
    public static func notFound(_ what: String) -> APIError {
        APIError(status: 404, code: .notFound, title: "Not found", detail: "No such \(what).")
    }
    public static func conflict(_ detail: String) -> APIError {
        APIError(status: 409, code: .conflict, title: "Conflict", detail: detail)
    }
    public static func idempotencyMismatch() -> APIError {
        APIError(
            status: 422, code: .invalidRequest, title: "Idempotency key reused",
            detail: "This Idempotency-Key was used with a different request body.")
    }
    public static func rateLimited(retryAfter: Int, detail: String) -> APIError {
        APIError(status: 429, code: .rateLimited, title: "Too many requests", detail: detail, retryAfter: retryAfter)
    }
    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(
            status: 413, code: .payloadTooLarge, title: "Payload too large",
            detail: "The request body exceeds \(limit) bytes.")
    }
    public static func unavailable(_ detail: String) -> APIError {
        APIError(status: 503, code: .unavailable, title: "Service unavailable", detail: detail)
    }
    public static let `internal` = APIError(
        status: 500, code: .internal, title: "Internal error",
        detail: "The server failed to handle the request; it has been logged under this request id.")

    /// The problem document.
    public func body(requestID: String) -> Data {
        var object: [String: Any] = [
            "type": "https://controlplane.dev/problems/\(code.rawValue.replacingOccurrences(of: "_", with: "-"))",
            "title": title, "status": status, "detail": detail, "code": code.rawValue, "request_id": requestID,
        ]
        if let retryAfter { object["retry_after"] = retryAfter }
        if !errors.isEmpty { object["errors"] = errors.map { ["pointer": $0.pointer, "detail": $0.detail] } }
        for (name, value) in extensions where object[name] == nil { object[name] = value.json }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    public var headerFields: HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        return fields
    }
}
