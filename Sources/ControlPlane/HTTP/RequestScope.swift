import Auth
import Logging

/// What the server knows about the request being handled, bound as a task local by the outermost HTTP
/// middleware (request id, client address) and by the authentication middleware (principal). The
/// OpenAPI transport passes no Hummingbird context to handlers, so this is how they reach it.
public struct RequestScope: Sendable {
    public var requestID: String
    public var clientAddress: String
    public var principal: Principal?

    @TaskLocal public static var current: RequestScope?

    /// Metadata added to every log line written while a request is handled.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let scope = RequestScope.current else { return [:] }
        return ["request_id": .string(scope.requestID)]
    }
}
