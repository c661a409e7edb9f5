import NIOCore
import NIOPosix

/// Binds the listening address once, and lets it go, before any service starts: a port that is taken
/// fails the start at once with a clear error, instead of failing the HTTP server after the other
/// services are running (which then have to be cancelled mid-start).
package enum PortPreflight {
    package struct PortTaken: Error, CustomStringConvertible {
        package let host: String
        package let port: Int
        package let reason: String
        package var description: String { "cannot listen on \(host):\(port): \(reason)" }
    }

    /// Throws `PortTaken` when `host:port` cannot be bound now; port 0 (any) is not checked.
    package static func check(host: String, port: Int) async throws {
        guard port != 0 else { return }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close().get()
        } catch {
            throw PortTaken(host: host, port: port, reason: "\(error)")
        }
    }
}
