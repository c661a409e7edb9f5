import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on loopback that can be frozen: it then drops every byte in both directions but keeps
/// both connections open, which is what a half-open connection looks like to its ends.
final class FreezableProxy: Sendable {
    private let frozen = Atomic<Bool>(false)
    private let channel: any Channel
    let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// A relay from a free loopback port to `targetPort`.
    static func start(targetPort: Int) async throws -> FreezableProxy {
        let box = ProxyBox()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { inbound in
                let outboundFuture = ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                return outboundFuture.flatMap { outbound in
                    let isFrozen: @Sendable () -> Bool = { box.proxy?.frozen.load(ordering: .relaxed) ?? false }
                    return inbound.pipeline.addHandler(Relay(peer: outbound, isFrozen: isFrozen)).flatMap {
                        outbound.pipeline.addHandler(Relay(peer: inbound, isFrozen: isFrozen))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = FreezableProxy(channel: server, port: server.localAddress?.port ?? 0)
        box.proxy = proxy
        return proxy
    }

    func freeze() { frozen.store(true, ordering: .relaxed) }
    /// Lets bytes through again (connections opened while frozen are still dropped by their peers' timeouts).
    func thaw() { frozen.store(false, ordering: .relaxed) }

    func stop() async { try? await channel.close() }
}

/// Lets the child channel initialiser reach the proxy that is built after it.
private final class ProxyBox: @unchecked Sendable {
    private let lock = Mutex<FreezableProxy?>(nil)
    var proxy: FreezableProxy? {
        get { lock.withLock { $0 } }
        set { lock.withLock { $0 = newValue } }
    }
}

/// Forwards what one side reads to the other side, unless frozen.
private final class Relay: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let peer: any Channel
    let isFrozen: @Sendable () -> Bool

    init(peer: any Channel, isFrozen: @escaping @Sendable () -> Bool) {
        self.peer = peer
        self.isFrozen = isFrozen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isFrozen() else { return }
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !isFrozen() { peer.close(promise: nil) }
        context.fireChannelInactive()
    }
}
