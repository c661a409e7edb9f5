import BlockingWork
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Webhooks

/// The outermost HTTP middleware, run for every request including unknown routes: it assigns the
/// request id, binds `RequestScope`, enforces the body size limit before the body is read whole, turns
/// any error that escaped the OpenAPI layer into a problem response, adds the security headers, and
/// records the access log line and metrics.
package struct EdgeMiddleware: RouterMiddleware {
    package typealias Context = AppRequestContext

    package let maxBodyBytes: Int
    /// The largest refused body read and dropped to keep its connection; a larger one ends it.
    package static let drainedBodyBytes = 64 << 10
    /// The larger limit of webhook deliveries (`/v1/hooks/...`), whose bodies are kept byte for byte.
    package let webhookMaxBodyBytes: Int
    /// The limit of bulk calls (`PUT /v1/identities`).
    package let bulkMaxBodyBytes: Int
    /// The bytes of bodies being read, bounded per source and in all.
    package let bodies: BodyBudget
    /// How fast each source's bodies are read.
    package let bodyRate: BodyReadRate
    /// The endpoints whose deliveries count against their tenant's share.
    package let knownEndpoints: KnownEndpoints
    package let addresses: ClientAddressResolver
    /// How long refusals (429) wait before they go.
    package let pacing: RefusalPacing
    package let routes: DeclaredRoutes
    package let metrics: HTTPMetrics
    /// The problem for an error of a domain module (the composition root's table); nil for the others.
    package let domainProblem: @Sendable (any Error) -> APIError?
    package let logger: Logger

    /// The edge as `settings` says, with the composition root's parts.
    package init(
        settings: HTTPSettings, knownEndpoints: KnownEndpoints, routes: DeclaredRoutes, metrics: HTTPMetrics,
        domainProblem: @escaping @Sendable (any Error) -> APIError?, logger: Logger
    ) throws {
        maxBodyBytes = settings.maxBodyBytes
        webhookMaxBodyBytes = settings.webhookMaxBodyBytes
        bulkMaxBodyBytes = settings.bulkMaxBodyBytes
        bodies = BodyBudget(total: settings.bodyBytesInFlight, perSource: settings.bodyBytesInFlightPerSource)
        bodyRate = BodyReadRate(
            bytesPerSecond: settings.bodyBytesPerSecondPerSource, burst: settings.bodyBytesInFlightPerSource)
        self.knownEndpoints = knownEndpoints
        addresses = try ClientAddressResolver(
            trustedProxies: settings.trustedProxies, trustedHops: settings.trustedProxyHops)
        pacing = RefusalPacing(
            delay: settings.refusalPacing, holdsPerSource: settings.refusalPacingHoldsPerSource,
            holds: settings.refusalPacingHolds)
        self.routes = routes
        self.metrics = metrics
        self.domainProblem = domainProblem
        self.logger = logger
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws
        -> Response
    {
        let started = ContinuousClock.now
        let requestID = Self.requestID(from: request.headers[.xRequestID])
        let scope = RequestScope(requestID: requestID, clientAddress: clientAddress(request, context), principal: nil)

        var response = await RequestScope.$current.withValue(scope) { () async -> Response in
            do {
                var request = request
                if NulCharacters.inTarget(request.uri.description) {
                    throw APIError.invalid(
                        "The request's path or query holds a NUL character (%00), which nothing takes.")
                }
                let hold: BodyBudget.Hold?
                do {
                    hold = try await limitBody(&request, from: scope.clientAddress)
                } catch {
                    // A large body refused unread (too large, no room to read it) is not read to its end to
                    // keep the connection: it closes once the answer is written. A small one is read and
                    // dropped, so its client surely reads the answer before the connection goes.
                    var refused = problemResponse(for: error, requestID: requestID)
                    let declared = request.headers[.contentLength].flatMap(Int.init) ?? 0
                    if declared > Self.drainedBodyBytes { refused.headers[.connection] = "close" }
                    return refused
                }
                defer { hold?.release() }
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                // A known path asked with a method it does not take.
                if let allowed = routes.methods(for: request.uri.path) {
                    var response = problemResponse(
                        for: APIError(
                            status: 405, code: .invalidRequest, title: "Method not allowed",
                            detail: "This route takes \(allowed.joined(separator: ", "))."), requestID: requestID)
                    response.headers[.allow] = allowed.joined(separator: ", ")
                    return response
                }
                return problemResponse(for: error, requestID: requestID)
            } catch {
                return problemResponse(for: error, requestID: requestID)
            }
        }
        await pacing.pause(
            status: response.status.code, retryAfter: response.headers[.retryAfter],
            source: Self.source(tenant: scope.caller.tenantID, address: scope.clientAddress))
        Self.addSecurityHeaders(&response.headers, requestID: requestID)
        // The OpenAPI runtime percent-encodes header values (`=`, `;`, spaces); a cookie goes as written.
        if let cookie = response.headers[.setCookie], let plain = cookie.removingPercentEncoding {
            response.headers[.setCookie] = plain
        }

        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        metrics.record(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        if let tenant = scope.caller.tenantID {
            metrics.record(tenant: tenant, status: response.status.code, duration: elapsed)
        }
        logger.info(
            "request",
            metadata: [
                "request_id": .string(requestID), "method": .string(request.method.rawValue),
                "route": .string(route), "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(elapsed / .milliseconds(1)),
            ])
        return response
    }

    /// Refuses a declared length over the limit at once; otherwise reads at most the limit. A webhook
    /// delivery has its own limit and may hold nulls (GitHub's payloads do); every other body may not.
    /// Reads the body whole (within its route's limit and the body budget) and checks it; answers what it
    /// holds of the budget until the request has been answered.
    private func limitBody(_ request: inout Request, from address: String) async throws -> BodyBudget.Hold? {
        let isDelivery = request.uri.path.hasPrefix("/v1/hooks/")
        let isBulk = request.uri.path == "/v1/identities"
        let maxBodyBytes = isDelivery ? webhookMaxBodyBytes : isBulk ? bulkMaxBodyBytes : maxBodyBytes
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maxBodyBytes { throw APIError.payloadTooLarge(limit: maxBodyBytes) }
        guard [.post, .put, .patch].contains(request.method) else { return nil }
        // A delivery that carries no signature cannot verify, whatever its endpoint: refused unread. (Other
        // methods on a delivery path go on to the router, which answers 405.)
        if isDelivery, request.method == .post, !WebhookSignature.isWellFormed(request.headers[.xHubSignature256]) {
            throw APIError.ingest(.signature)
        }
        // A delivery to an endpoint known to exist is its tenant's; anything else is its client address's.
        let endpoint =
            isDelivery ? request.uri.path.split(separator: "/").last.flatMap { UUID(uuidString: String($0)) } : nil
        let source = Self.source(tenant: endpoint.flatMap(knownEndpoints.tenant(of:)), address: address)
        guard let hold = bodies.take(max(0, declared ?? maxBodyBytes), source: source) else {
            // Paced like a 429: a sender that retries at once waits for its answer with its body unsent.
            await pacing.pause(retryAfterSeconds: 1, source: source)
            throw APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "Too many request bodies from this source are being read; retry in a second.", retryAfter: 1)
        }
        var read = false
        defer { if !read { hold.release() } }
        do {
            let buffer = try await collect(request.body, upTo: maxBodyBytes, pacedFor: source)
            if !isDelivery, let field = JSONNulls.firstNull(in: buffer) {
                throw APIError.invalid("Field '\(field.prefix(100))' is null; leave it out instead.")
            }
            if !isDelivery, let field = NulCharacters.firstField(in: buffer) {
                throw APIError.invalid(
                    "Field '\(field.replacingOccurrences(of: "\0", with: "").prefix(100))' holds a NUL character (U+0000), which no field takes."
                )
            }
            request.body = .init(buffer: buffer)
            read = true
            return hold
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: maxBodyBytes)
        } catch {
            // The client closed or was cut off (body timeout) before the body was whole.
            throw APIError.invalid("The request body ended before its declared length.")
        }
    }

    /// Reads `body` whole, at most `limit` bytes, at `source`'s rate: past it, the next chunk is read only
    /// after a pause, and meanwhile the connection's unread bytes wait in the kernel.
    private func collect(_ body: RequestBody, upTo limit: Int, pacedFor source: String) async throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for try await chunk in body {
            guard chunk.readableBytes <= limit - buffer.readableBytes else {
                throw APIError.payloadTooLarge(limit: limit)
            }
            buffer.writeImmutableBuffer(chunk)
            let wait = bodyRate.charge(chunk.readableBytes, to: source)
            if wait > .zero { try await Pause.for(wait) }
        }
        return buffer
    }

    private func problemResponse(for error: any Error, requestID: String) -> Response {
        let problem: APIError
        switch (error, domainProblem(error)) {
        case (let error as APIError, _):
            problem = error
        case (_, let domain?):
            problem = domain
        case (let error as HTTPError, _) where error.status == .notFound:
            problem = .notFound("route")
        case (let error as HTTPError, _) where error.status == .methodNotAllowed:
            problem = APIError(
                status: 405, code: .invalidRequest, title: "Method not allowed",
                detail: "This route does not take that method.")
        case (let error as HTTPError, _) where (400..<500).contains(error.status.code):
            problem = APIError(
                status: error.status.code, code: .invalidRequest, title: error.status.reasonPhrase,
                detail: "The request was rejected.")
        default:
            logger.error("unhandled error", metadata: ["request_id": .string(requestID), "error": "\(error)"])
            problem = .internal
        }
        return Response(
            status: .init(code: problem.status), headers: problem.headerFields,
            body: .init(byteBuffer: ByteBuffer(bytes: problem.body(requestID: requestID))))
    }

    /// Whose share a request counts against (body bytes, paced refusals): its tenant's when known, else
    /// its client address's.
    package static func source(tenant: TenantID?, address: String) -> String {
        tenant.map { "tenant:\($0)" } ?? "address:\(address)"
    }

    /// The throttle key of the client: its address (IPv6 by /64) as the trusted proxies report it.
    private func clientAddress(_ request: Request, _ context: Context) -> String {
        let resolved = addresses.resolve(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor])
        return resolved?.throttleKey ?? "unknown"
    }

    /// Keeps a caller's request id when it is short and plain, so ids can be traced across systems.
    package static func requestID(from header: String?) -> String {
        if let header, (1...64).contains(header.count),
            header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        {
            return header
        }
        return UUID().uuidString.lowercased()
    }

    package static func addSecurityHeaders(_ headers: inout HTTPFields, requestID: String) {
        headers[.xRequestID] = requestID
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.strictTransportSecurity] = "max-age=63072000; includeSubDomains"
        // An API answer runs nothing. The console's pages set their own policy, which lets them run their
        // own scripts and styles and nothing else; it is kept.
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        }
        headers[.referrerPolicy] = "no-referrer"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    package static let xRequestID = Self("X-Request-Id")!
    package static let xHubSignature256 = Self("X-Hub-Signature-256")!
    package static let xForwardedFor = Self("X-Forwarded-For")!
    package static let xFrameOptions = Self("X-Frame-Options")!
    package static let xContentTypeOptions = Self("X-Content-Type-Options")!
    package static let strictTransportSecurity = Self("Strict-Transport-Security")!
    package static let contentSecurityPolicy = Self("Content-Security-Policy")!
    package static let referrerPolicy = Self("Referrer-Policy")!
}
