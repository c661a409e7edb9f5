import AsyncHTTPClient
import BlockingWork
import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps tenants' custom base URLs off the platform's own network: loopback, private, link-local (the
/// cloud metadata address among them), carrier-grade NAT, multicast and reserved addresses are refused,
/// for literal addresses and for every address a name resolves to. The check happens when a call is
/// made, on the addresses it then resolves to, and the connection is pinned to the checked address, so a
/// name that changes its answer between check and connect (DNS rebinding) cannot slip through. Hosts in
/// the operator's allowlist (`CP_PROVIDER_URL_ALLOWLIST`) skip the check.
public struct OutboundAddressGuard: Sendable {
    let allowlist: Set<String>

    public init(allowlist: [String]) {
        self.allowlist = Set(allowlist.map { $0.lowercased() })
    }

    /// A base URL whose shape may be stored: http or https, a host, no user info, no query or fragment;
    /// literal addresses and `localhost` names are refused here already.
    public func validate(baseURL text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil,
            url.fragment == nil
        else {
            throw AddressRefused(reason: "base_url must be an http or https URL with a host and no credentials")
        }
        let name = Self.bare(host)
        if allowlist.contains(name) { return url }
        if name == "localhost" || name.hasSuffix(".localhost") || name.hasSuffix(".local")
            || name.hasSuffix(".internal")
        {
            throw AddressRefused(reason: "base_url may not point at a local name")
        }
        if let address = Self.literal(name), Self.isForbidden(address) {
            throw AddressRefused(reason: "base_url may not point at a loopback, private or link-local address")
        }
        return url
    }

    /// Resolves `host` and answers the address to connect to, or nil when the host is allowlisted (connect
    /// as usual). Throws `AddressRefused` when any address it resolves to is forbidden.
    public func pin(host: String) async throws -> String? {
        let name = Self.bare(host)
        if allowlist.contains(name) { return nil }
        let addresses: [IPAddress]
        if let literal = Self.literal(name) {
            addresses = [literal]
        } else {
            addresses = try await Self.resolveOffExecutor(name)
        }
        guard let first = addresses.first else { throw AddressRefused(reason: "the base URL's host does not resolve") }
        if addresses.contains(where: Self.isForbidden) {
            throw AddressRefused(reason: "the base URL resolves to a loopback, private or link-local address")
        }
        return first.text
    }

    /// The threads `getaddrinfo` runs on (it blocks, for up to its resolver's timeouts and retries).
    static let resolverThreads = BlockingWorkPool(threads: 4)
    /// Resolutions waiting or running: past `maximumResolutions` a call is refused at once, so a burst of
    /// slow names cannot queue without end.
    static let resolutions = Atomic<Int>(0)
    static let maximumResolutions = 64
    /// How long a name may take to resolve, waiting for a thread included.
    static let resolutionLimit = Duration.seconds(5)

    static func resolveOffExecutor(_ name: String) async throws -> [IPAddress] {
        let (taken, _) = resolutions.add(1, ordering: .acquiringAndReleasing)
        defer { resolutions.subtract(1, ordering: .acquiringAndReleasing) }
        guard taken <= maximumResolutions else {
            throw AddressRefused(reason: "too many names are being resolved; try again in a moment")
        }
        do {
            return try await resolverThreads.run(within: resolutionLimit) { try Self.resolve(name) }
        } catch is BlockingWorkPool.TimedOut {
            throw AddressRefused(reason: "the base URL's host did not resolve within \(resolutionLimit)")
        }
    }

    static func bare(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// An IPv4 address as 4 bytes or an IPv6 address as 16.
    struct IPAddress: Sendable, Equatable {
        let bytes: [UInt8]
        var text: String {
            if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
            var storage = in6_addr()
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &storage, &buffer, socklen_t(buffer.count))
            return "[" + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "]"
        }
    }

    static func literal(_ text: String) -> IPAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) }) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) }) }
        return nil
    }

    static func resolve(_ name: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else {
            throw AddressRefused(reason: "the base URL's host does not resolve")
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let socket = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    let address = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: address) { Array($0) }))
                } else if entry.pointee.ai_family == AF_INET6 {
                    let address = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(IPAddress(bytes: withUnsafeBytes(of: address) { Array($0) }))
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    /// Whether tenants may not reach `address`.
    static func isForbidden(_ address: IPAddress) -> Bool {
        let b = address.bytes
        if b.count == 4 { return isForbiddenV4(b) }
        guard b.count == 16 else { return true }
        if b.allSatisfy({ $0 == 0 }) { return true }  // ::
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }  // ::1
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            return isForbiddenV4(Array(b[12..<16]))
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return isForbiddenV4(Array(b[12..<16])) }  // IPv4-compatible
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B { return isForbiddenV4(Array(b[12..<16])) }  // NAT64
        if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local (AWS metadata fd00:ec2::254 too)
        if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if b[0] == 0xFE, b[1] & 0xC0 == 0xC0 { return true }  // fec0::/10 site-local
        if b[0] == 0xFF { return true }  // multicast
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return true }  // documentation
        return false
    }

    static func isForbiddenV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // carrier-grade NAT
        case (169, 254): return true  // link-local, cloud metadata
        case (172, 16...31), (192, 168): return true
        case (192, 0) where b[2] == 0 || b[2] == 2: return true
        case (198, 18...19): return true
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return true
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }
}

/// A base URL that tenants may not use.
public struct AddressRefused: Error, Sendable, Equatable {
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }
}

/// HTTP clients that connect a host name to one checked address (AsyncHTTPClient's `dnsOverride`), so
/// TLS still verifies the name while the socket goes only where the guard allowed. Bounded: past
/// `capacity` pins the oldest is evicted, but a client is shut down only once no lease of it is left,
/// so evicting a pin never cuts a call in flight on it (another tenant's, say).
public final class PinnedClients: Sendable {
    /// One client and the calls holding it.
    final class Pin: Sendable {
        let client: HTTPClient
        private let state = Mutex<(leases: Int, evicted: Bool, closed: Bool)>((0, false, false))

        init(client: HTTPClient) { self.client = client }

        func lease() { state.withLock { $0.leases += 1 } }

        func release() {
            if state.withLock({ state in
                state.leases -= 1
                return Self.closing(&state)
            }) {
                client.shutdown { _ in }
            }
        }

        func evict() {
            if state.withLock({ state in
                state.evicted = true
                return Self.closing(&state)
            }) {
                client.shutdown { _ in }
            }
        }

        /// Whether the client is to be shut down now (evicted and unleased, and not yet closed).
        private static func closing(_ state: inout (leases: Int, evicted: Bool, closed: Bool)) -> Bool {
            guard state.evicted, state.leases == 0, !state.closed else { return false }
            state.closed = true
            return true
        }
    }

    /// A pinned client lent to one call: the client stays open while the lease lives (keep it for as
    /// long as the call and its body are read), even after the pin was evicted.
    public final class Lease: Sendable {
        public let client: HTTPClient
        private let pin: Pin

        init(_ pin: Pin) {
            pin.lease()
            self.pin = pin
            self.client = pin.client
        }

        deinit { pin.release() }
    }

    private let pins = Mutex<(byKey: [String: Pin], order: [String])>(([:], []))
    let capacity: Int

    public init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// A lease of the client pinned to `address` for `host`, made on first use.
    public func client(host: String, address: String) -> Lease {
        let key = "\(host)|\(address)"
        var evicted: Pin?
        let lease = pins.withLock { pins -> Lease in
            if let existing = pins.byKey[key] { return Lease(existing) }
            var configuration = HTTPClient.Configuration()
            configuration.dnsOverride = [host: address.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))]
            configuration.redirectConfiguration = .disallow
            configuration.timeout = .init(connect: .seconds(5), read: .seconds(120))
            let pin = Pin(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
            pins.byKey[key] = pin
            pins.order.append(key)
            if pins.order.count > capacity {
                evicted = pins.byKey.removeValue(forKey: pins.order.removeFirst())
            }
            return Lease(pin)
        }
        evicted?.evict()
        return lease
    }

    /// How many pins are kept (evicted ones still serving calls are not counted).
    public var count: Int { pins.withLock { $0.byKey.count } }

    /// Shuts every client down.
    public func shutdown() async {
        let all = pins.withLock { pins -> [Pin] in
            defer { pins = ([:], []) }
            return Array(pins.byKey.values)
        }
        for pin in all { try? await pin.client.shutdown() }
    }
}

extension OutboundAddressGuard {
    /// A URL a tenant gives the server to call back (a notification endpoint, a Slack webhook), as it is
    /// stored: the shape `validate(baseURL:)` checks and at most 2048 visible ASCII characters. A refusal's
    /// reason names the URL `field`.
    public func callbackURL(_ text: String, field: String) throws -> String {
        let checked: String
        do {
            checked = try validate(baseURL: text).absoluteString
        } catch let refused as AddressRefused {
            throw AddressRefused(reason: refused.reason.replacingOccurrences(of: "base_url", with: field))
        }
        guard checked.utf8.count <= 2048, checked.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw AddressRefused(reason: "\(field) must be at most 2048 visible ASCII characters") }
        return checked
    }
}
