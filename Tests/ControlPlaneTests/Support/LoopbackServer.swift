import BlockingWork
import Hummingbird
import Logging
import Synchronization

/// A test's own HTTP server (a fake provider, a notification receiver): `router` served on a free port
/// of the loopback address `host` while `body` runs with that port; answers `body`'s value.
func withLoopbackServer<Value: Sendable>(
    _ router: Router<BasicRequestContext>, host: String = "127.0.0.1", label: String,
    _ body: @Sendable (Int) async throws -> Value
) async throws -> Value {
    let port = Mutex<Int?>(nil)
    var logger = Logger(label: label)
    logger.logLevel = .critical
    let app = Application(
        router: router, configuration: .init(address: .hostname(host, port: 0)),
        onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        defer { group.cancelAll() }
        var bound: Int?
        for _ in 0..<200 {
            bound = port.withLock { $0 }
            if bound != nil { break }
            try await Pause.for(.milliseconds(10))
        }
        guard let bound else { throw NotListening() }
        return try await body(bound)
    }
}

/// The test server did not start listening within two seconds.
struct NotListening: Error {}
