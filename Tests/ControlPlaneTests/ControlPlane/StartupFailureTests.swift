import Foundation
import NIOCore
import NIOPosix
import TestKit
import Testing

/// A server or worker whose port is taken exits at once with a failure status, before any service
/// starts. In CI, a server whose HTTP listener failed after the other services had started never exited
/// (and its queue relay, which did not stop on cancellation, spun at 150 % CPU logging retries).
@Suite(.timeLimit(.minutes(3))) struct StartupFailureTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: KilledServerTests.binary)))
    func aServerWhosePortIsTakenExits() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { try? taken.close().wait() }
        let port = try #require(taken.localAddress?.port)
        for command in ["serve", "all", "worker"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: KilledServerTests.binary)
            process.arguments = [command]
            var environment = ProcessInfo.processInfo.environment
            environment["CP_HTTP_PORT"] = String(port)
            environment["CP_WORKER_HTTP_PORT"] = String(port)
            environment["CP_LOG_LEVEL"] = "critical"
            environment["CP_QUEUE_RELAY_INTERVAL_SECONDS"] = "1"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let exited = try await waitUntil(timeout: .seconds(40)) { !process.isRunning }
            #expect(exited != nil, "`controlplane \(command)` still runs with its port taken")
            if exited != nil { #expect(process.terminationStatus != 0) }
        }
    }
}
