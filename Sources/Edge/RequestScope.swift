import Auth
import Logging
import Persistence
import Synchronization

/// What the server knows about the request being handled, bound as a task local by the outermost HTTP
/// middleware (request id, client address) and by the authentication middleware (principal). The
/// OpenAPI transport passes no Hummingbird context to handlers, so this is how they reach it.
public struct RequestScope: Sendable {
    public var requestID: String
    public var clientAddress: String
    public var principal: Principal?
    /// The tenant the request was authenticated for, written by the authentication middleware (deeper in
    /// the call) and read by the edge middleware for the per-tenant request metrics. Shared by every copy.
    public let caller = CallerTenant()

    @TaskLocal public static var current: RequestScope?

    /// Metadata added to every log line written while a request is handled.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let scope = RequestScope.current else { return [:] }
        return ["request_id": .string(scope.requestID)]
    }
}

/// The tenant of an authenticated request, once known.
public final class CallerTenant: Sendable {
    private let tenant = Mutex<TenantID?>(nil)

    public init() {}

    public var tenantID: TenantID? { tenant.withLock { $0 } }

    package func set(_ tenantID: TenantID) { tenant.withLock { $0 = tenantID } }
}
