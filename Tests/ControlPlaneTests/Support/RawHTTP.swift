import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A bare TCP exchange with a loopback listener, for requests no HTTP client would send (a declared
/// length that never arrives).
enum RawHTTP {
    struct Failure: Error { let step: String }

    /// Sends `request` and reads the answer, on a thread of its own: the blocking reads never hold a
    /// thread that runs tasks (or the event loop of the server under test).
    static func exchange(port: Int, request: String, timeoutSeconds: Int) async throws -> String {
        try await onOwnThread { try blockingExchange(port: port, request: request, timeoutSeconds: timeoutSeconds) }
    }

    /// Runs blocking socket work on a new thread and resumes with its result: neither a cooperative
    /// thread nor a shared pool's thread (others' work would queue behind a ten-second exchange) waits.
    static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }

    private static func blockingExchange(port: Int, request: String, timeoutSeconds: Int) throws -> String {
        let descriptor = try connected(port: port, receiveTimeout: timeval(tv_sec: timeoutSeconds, tv_usec: 0))
        defer { close(descriptor) }
        let bytes = Array(request.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw Failure(step: "write") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
            if let text = String(bytes: received, encoding: .utf8), text.contains("\r\n\r\n"), text.contains("}") {
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// A new TCP socket that no child process inherits: a program a test starts meanwhile (`pg_ctl
    /// restart` leaves a Postgres running for the rest of the run) would otherwise keep it open after
    /// the test closes it, so the server would never see the client leave.
    static func tcpSocket() -> Int32 {
        socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// A TCP socket connected to `port` on 127.0.0.1, reads waiting at most `receiveTimeout`; the caller
    /// closes it.
    static func connected(port: Int, receiveTimeout: timeval) throws -> Int32 {
        let descriptor = tcpSocket()
        guard descriptor >= 0 else { throw Failure(step: "socket") }
        var timeout = receiveTimeout
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure(step: "connect")
        }
        return descriptor
    }
}
