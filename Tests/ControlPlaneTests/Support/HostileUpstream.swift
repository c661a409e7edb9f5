import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tenant's own OpenAI-compatible upstream gone bad, served with blocking sockets on threads of its
/// own. It never runs on the test process's event loops or cooperative threads, which the server under
/// test shares: a flood written through them outran its reader (NIO's async writer takes each write at
/// once while the channel was writable a moment ago: 44 MB queued for a reader that took 8 MiB here,
/// and on a faster machine enough queued writes to keep an event loop from its other channels for
/// seconds). Here a send waits as the kernel makes it wait, as a real peer's would.
///
/// The model picks the behaviour: `trickle` (headers at once, then a byte every 200 ms), `flood`
/// (headers, then data as fast as it is taken), `stall` (headers, then nothing), `endless` (a whole
/// answer whose body never ends); any other model is answered 404. Each answer ends after 60 s, when
/// its reader leaves, or when `run`'s body has returned.
final class HostileUpstream: Sendable {
    struct Counts: Sendable {
        /// Bytes the kernel took from the answers, and how many answers are still going.
        var bytes = 0
        var open = 0
    }

    private let counts = Mutex(Counts())
    private let stopped = Atomic<Bool>(false)

    var snapshot: Counts { counts.withLock { $0 } }

    /// Serves on a free loopback port while `body` runs; answers `body`'s value.
    func run<Value: Sendable>(_ body: @Sendable (Int) async throws -> Value) async throws -> Value {
        let (listener, port) = try Self.listen()
        // The accepting thread closes the listener itself once it sees the stop, so its descriptor is
        // never closed under a call in progress.
        Thread { self.accept(on: listener) }.start()
        defer { stopped.store(true, ordering: .relaxed) }
        return try await body(port)
    }

    // MARK: - Threads

    private var going: Bool { !stopped.load(ordering: .relaxed) }

    private func accept(on listener: Int32) {
        defer { close(listener) }
        while going {
            var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 100) > 0 else { continue }
            let connection = Glibc.accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            // Not inherited by a program a test starts meanwhile (see `RawHTTP.tcpSocket`).
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            Thread { self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let until = ContinuousClock.now + .seconds(60)
        let peer = Peer(socket: connection, going: { self.going && ContinuousClock.now < until })
        guard let request = peer.readRequest(), let model = request["model"] as? String else { return }
        let streaming = request["stream"] as? Bool == true
        guard ["trickle", "flood", "stall", "endless"].contains(model) else {
            _ = send(Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8), to: peer)
            return
        }
        counts.withLock { $0.open += 1 }
        defer { counts.withLock { $0.open -= 1 } }
        let type = streaming ? "text/event-stream" : "application/json"
        let head = "HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard send(Array(head.utf8), to: peer) else { return }
        switch model {
        case "trickle":
            let byte = Self.chunk(streaming ? ":" : " ")
            while send(byte, to: peer), peer.staysFor(milliseconds: 200) {}
        case "flood":
            let piece = Self.chunk(streaming ? String(repeating: Self.floodEvent, count: 10) : Self.spaces)
            while send(piece, to: peer) {}
        case "endless":
            guard send(Self.chunk(Self.wholeAnswer), to: peer) else { return }
            while peer.staysFor(milliseconds: 100) {}
        default:
            while peer.staysFor(milliseconds: 100) {}
        }
    }

    private func send(_ bytes: [UInt8], to peer: Peer) -> Bool {
        peer.send(bytes) { sent in self.counts.withLock { $0.bytes += sent } }
    }

    // MARK: - Wire

    private static let floodEvent =
        #"data: {"id":"f","object":"chat.completion.chunk","created":1,"model":"flood","choices":[{"index":0,"#
        + #""delta":{"content":"\#(String(repeating: "flood ", count: 10_000))"}}]}"# + "\n\n"
    private static let spaces = String(repeating: " ", count: 65_536)
    private static let wholeAnswer =
        #"{"id":"e","object":"chat.completion","created":1,"model":"endless","choices":[{"index":0,"message":"#
        + #"{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"#
        + #""completion_tokens":1,"total_tokens":2}}"#

    /// `text` as one chunk of a chunked body.
    private static func chunk(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + Array("\r\n".utf8)
    }

    /// A listening socket on a free port of 127.0.0.1, and that port.
    private static func listen() throws -> (Int32, Int) {
        let listener = RawHTTP.tcpSocket()
        guard listener >= 0 else { throw RawHTTP.Failure(step: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && Glibc.listen(listener, 64) == 0
                    && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw RawHTTP.Failure(step: "listen")
        }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// One accepted connection's blocking reads and writes, each giving up once `going` turns false.
private struct Peer {
    let socket: Int32
    let going: () -> Bool

    /// The JSON body of the request, once its head and `Content-Length` bytes have arrived.
    func readRequest() -> [String: Any]? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let separator = Array("\r\n\r\n".utf8)
        while going() {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { return nil }
            if count > 0 { received += buffer[0..<count] }
            guard let end = received.firstRange(of: separator)?.upperBound else { continue }
            let head = String(decoding: received[..<end], as: UTF8.self).lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            guard received.count - end >= length else { continue }
            return try? JSONSerialization.jsonObject(with: Data(received[end..<end + length])) as? [String: Any]
        }
        return nil
    }

    /// Sends all of `bytes`, reporting each part the kernel takes; false when the reader has left or
    /// the answer is over.
    func send(_ bytes: [UInt8], sent: (Int) -> Void) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard going() else { return false }
            let count = bytes.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                offset += count
                sent(count)
            } else if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return false
            }
        }
        return true
    }

    /// Waits up to `milliseconds`; false when the reader has left meanwhile or the answer is over.
    func staysFor(milliseconds: Int32) -> Bool {
        var waiting = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        if poll(&waiting, 1, milliseconds) > 0 {
            if waiting.revents & Int16(POLLHUP | POLLERR) != 0 { return false }
            var byte: UInt8 = 0
            let count = recv(socket, &byte, 1, Int32(MSG_DONTWAIT))
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return false }
        }
        return going()
    }
}
