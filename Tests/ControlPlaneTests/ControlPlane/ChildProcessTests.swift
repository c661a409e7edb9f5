import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A program a test starts inherits none of the test process's descriptors. NIO opens its sockets
/// without close-on-exec; when `pg_ctl restart` left a Postgres holding a test server's connections, that
/// server never saw its client leave (the flood test's stream ran to its 60 s deadline, one run in ten).
@Suite(.timeLimit(.minutes(1))) struct ChildProcessTests {
    @Test func aChildInheritsNoDescriptor() async throws {
        // A socket opened the way NIO opens its own: without close-on-exec.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor > 2)
        defer { close(descriptor) }
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC == 0)
        let inherited = try await ChildProcess.run(["sh", "-c", "test -e /proc/self/fd/\(descriptor)"])
        #expect(inherited == 1, "the child had descriptor \(descriptor)")
        // And the check itself can see a descriptor that is there.
        #expect(try await ChildProcess.run(["sh", "-c", "test -e /proc/self/fd/1"]) == 0)
    }

    @Test func theTestsOwnSocketsCloseOnExec() {
        let descriptor = RawHTTP.tcpSocket()
        defer { close(descriptor) }
        #expect(descriptor >= 0)
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
    }
}
