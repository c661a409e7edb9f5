import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// HTTP for providers over one shared, pooled `HTTPClient`: one deadline per attempt covering connect,
/// headers and the whole body (the policy's `timeout_ms`), a cap on what is read, the request id sent
/// upstream, and HTTP failures classified into `ProviderError`.
public struct ProviderTransport: Sendable {
    let client: HTTPClient
    /// What keeps `client` open while a call runs (a pinned client's lease); held by every call and
    /// stream made through this transport.
    let keepAlive: PinnedClients.Lease?
    /// The bytes a stream may hold between the provider and its reader before reading pauses.
    public let streamBufferBytes: Int
    /// The largest answer read into memory (a whole completion, or an error body).
    static let maxBodyBytes = 8 << 20
    /// The most a stream may bring in all (its framing included).
    let maxStreamBytes = 32 << 20

    public init(client: HTTPClient, streamBufferBytes: Int = 64 << 10) {
        self.init(client: client, keepAlive: nil, streamBufferBytes: streamBufferBytes)
    }

    private init(client: HTTPClient, keepAlive: PinnedClients.Lease?, streamBufferBytes: Int) {
        self.client = client
        self.keepAlive = keepAlive
        self.streamBufferBytes = streamBufferBytes
    }

    /// The same settings over a client pinned to a checked address, kept open while this transport's
    /// calls run.
    public func using(_ lease: PinnedClients.Lease) -> ProviderTransport {
        ProviderTransport(client: lease.client, keepAlive: lease, streamBufferBytes: streamBufferBytes)
    }

    /// OpenAI's and Anthropic's JSON is snake_case.
    static let snakeCaseDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// A base URL without its trailing slash, so paths can be appended.
    static func trimmed(_ baseURL: String) -> String {
        baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// A client with pooled keep-alive connections and the timeouts providers need.
    public static func makeClient(connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(120))
        -> HTTPClient
    {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000),
            read: .nanoseconds(Int64(readTimeout.components.seconds) * 1_000_000_000))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .enabled(limit: .ratio(20))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends one JSON request and answers the status, headers and whole body; any non-2xx answer is thrown
    /// as the `ProviderError` that `classify` makes of it.
    func post(
        _ url: String, headers: [(String, String)], body: Data, request: ChatRequest, provider: ProviderKind,
        classify: (Int, HTTPHeaders, ByteBuffer) -> ProviderError
    ) async throws -> ByteBuffer {
        let outgoing = Self.request(url, headers: headers, body: body, request: request)
        let (client, keepAlive) = (self.client, self.keepAlive)
        let deadline = ContinuousClock.now + request.timeout
        let (status, responseHeaders, bytes): (UInt, HTTPHeaders, ByteBuffer)
        do {
            (status, responseHeaders, bytes) = try await withDeadline(deadline) {
                defer { withExtendedLifetime(keepAlive) {} }
                let response = try await client.execute(
                    outgoing, timeout: .nanoseconds(Self.nanoseconds(request.timeout)))
                let bytes = try await response.body.collect(upTo: Self.maxBodyBytes)
                return (response.status.code, response.headers, bytes)
            }
        } catch {
            throw Self.failure(error, provider: provider)
        }
        guard (200..<300).contains(status) else {
            throw classify(Int(status), responseHeaders, bytes)
        }
        return bytes
    }

    /// Sends one request and answers its events as they arrive, read only as fast as they are taken.
    /// Until the response head, the request's timeout applies here; the rest of the stream is held to
    /// the same deadline by its reader (the gateway). A non-2xx answer is read (bounded, within the
    /// deadline) and thrown as the `ProviderError` that `classify` makes of it.
    func stream(
        _ url: String, headers: [(String, String)], body: Data, request: ChatRequest, provider: ProviderKind,
        decoder: some ProviderStreamDecoder, classify: (Int, HTTPHeaders, ByteBuffer) -> ProviderError
    ) async throws -> ChatEventStream {
        let outgoing = Self.request(url, headers: headers, body: body, request: request)
        let client = self.client
        let deadline = ContinuousClock.now + request.timeout
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                outgoing, timeout: .nanoseconds(Self.nanoseconds(request.timeout)))
        } catch {
            throw Self.failure(error, provider: provider)
        }
        guard (200..<300).contains(response.status.code) else {
            let bytes =
                (try? await withDeadline(deadline) { try await response.body.collect(upTo: 1 << 20) }) ?? ByteBuffer()
            throw classify(Int(response.status.code), response.headers, bytes)
        }
        return events(of: response, provider: provider, decoder: decoder)
    }

    private static func request(_ url: String, headers: [(String, String)], body: Data, request: ChatRequest)
        -> HTTPClientRequest
    {
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .POST
        outgoing.headers.add(name: "Content-Type", value: "application/json")
        outgoing.headers.add(name: "X-Request-Id", value: request.requestID)
        for (name, value) in headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(data: body))
        return outgoing
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1_000_000, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// A transport failure as a `ProviderError`: a timeout, or a network failure.
    public static func failure(_ error: any Error, provider: ProviderKind) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if let error = error as? HTTPClientError,
            error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        {
            return ProviderError(.timeout, provider: provider, message: "the provider did not answer in time")
        }
        if error is DeadlineExceeded {
            return ProviderError(.timeout, provider: provider, message: "the provider did not finish in time")
        }
        if error is ServerSentEvents.Oversized {
            return ProviderError(.invalidResponse, provider: provider, message: "a stream event was too large")
        }
        if error is CancellationError {
            return ProviderError(.timeout, provider: provider, message: "the call was cancelled")
        }
        return ProviderError(.network, provider: provider, message: "the provider could not be reached")
    }

    /// `Retry-After` in seconds or as an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64(min(seconds, 3600) * 1000))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = min(max(0, date.timeIntervalSinceNow), 3600)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// The classification shared by every provider: by status, refined by the caller for the provider's
    /// own codes (quota, context length).
    static func classify(
        status: Int, headers: HTTPHeaders, message: String, provider: ProviderKind, retryAfter: Duration? = nil
    ) -> ProviderError {
        let wait = retryAfter ?? Self.retryAfter(headers)
        switch status {
        case 429:
            return ProviderError(.rateLimited, provider: provider, status: status, retryAfter: wait, message: message)
        case 401: return ProviderError(.unauthorized, provider: provider, status: status, message: message)
        case 402: return ProviderError(.spendCap, provider: provider, status: status, message: message)
        case 403: return ProviderError(.forbidden, provider: provider, status: status, message: message)
        case 404: return ProviderError(.notFound, provider: provider, status: status, message: message)
        case 408: return ProviderError(.timeout, provider: provider, status: status, message: message)
        case 413: return ProviderError(.requestTooLarge, provider: provider, status: status, message: message)
        case 500...599:
            return ProviderError(.server, provider: provider, status: status, retryAfter: wait, message: message)
        default: return ProviderError(.badRequest, provider: provider, status: status, message: message)
        }
    }
}
