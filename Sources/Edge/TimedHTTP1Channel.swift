import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// HTTP/1.1 with read deadlines, so slow clients cannot hold connections (and up to a body's worth of
/// memory each) forever. A connection with no request in progress closes after the idle timeout; once
/// the first byte of a request arrives its head must be complete within the header timeout, and its body
/// within the body timeout after the head. A missed deadline closes the connection.
package struct TimedHTTP1Channel: ServerChildChannel {
    package typealias Value = HTTP1Channel.Value

    package let responder: HTTPChannelHandler.Responder
    package let idleTimeout: TimeAmount
    package let headerTimeout: TimeAmount
    package let bodyTimeout: TimeAmount

    package init(responder: @escaping HTTPChannelHandler.Responder, idle: Duration, header: Duration, body: Duration) {
        self.responder = responder
        self.idleTimeout = TimeAmount(idle)
        self.headerTimeout = TimeAmount(header)
        self.bodyTimeout = TimeAmount(body)
    }

    /// The server builder to hand to `Application(server:)`.
    package static func builder(idle: Duration, header: Duration, body: Duration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            TimedHTTP1Channel(responder: responder, idle: idle, header: header, body: body)
        }
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let deadlines = RequestDeadlines(headerTimeout: headerTimeout, bodyTimeout: bodyTimeout)
        do {
            // First in the pipeline: it sees raw bytes, so it knows when a request starts arriving.
            try channel.pipeline.syncOperations.addHandler(RequestStartHandler(deadlines: deadlines))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // After the HTTP codec: it sees where each head and body ends.
        let inner = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [RequestPartsHandler(deadlines: deadlines)], idleTimeout: idleTimeout))
        return inner.setup(channel: channel, logger: logger)
    }

    package func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// The per-connection state both handlers share; touched only on the channel's event loop.
package final class RequestDeadlines: @unchecked Sendable {
    package enum Phase { case waiting, readingHead, readingBody, answering }

    package let headerTimeout: TimeAmount
    package let bodyTimeout: TimeAmount
    package var phase = Phase.waiting
    private var scheduled: Scheduled<Void>?

    package init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    package func arm(_ timeout: TimeAmount, phase: Phase, context: ChannelHandlerContext) {
        disarm()
        self.phase = phase
        let channel = context.channel
        scheduled = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    package func disarm() {
        scheduled?.cancel()
        scheduled = nil
    }
}

/// Starts the header deadline when the first byte of a request arrives on an idle connection.
package final class RequestStartHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    package let deadlines: RequestDeadlines

    package init(deadlines: RequestDeadlines) { self.deadlines = deadlines }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadlines.phase == .waiting {
            deadlines.arm(deadlines.headerTimeout, phase: .readingHead, context: context)
        }
        context.fireChannelRead(data)
    }

    package func handlerRemoved(context: ChannelHandlerContext) { deadlines.disarm() }
}

/// Moves the deadline from head to body when the head is decoded, lifts it when the request is
/// complete, and goes back to waiting when the response has been written.
package final class RequestPartsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPResponsePart

    package let deadlines: RequestDeadlines

    package init(deadlines: RequestDeadlines) { self.deadlines = deadlines }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.arm(deadlines.bodyTimeout, phase: .readingBody, context: context)
        case .body: break
        case .end:
            deadlines.disarm()
            deadlines.phase = .answering
        }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closesAfterAnswer = head.headerFields[.connection] == "close"
        case .end where closesAfterAnswer:
            // An answer that says `Connection: close` (a refused body, left unread) ends the connection
            // once written, instead of the server reading the rest of the body to keep it.
            let written = promise ?? context.eventLoop.makePromise()
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.write(data, promise: written)
            return
        case .end where deadlines.phase == .answering:
            deadlines.phase = .waiting
        default:
            break
        }
        context.write(data, promise: promise)
    }

    private var closesAfterAnswer = false
}
