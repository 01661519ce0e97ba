import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes the connection as soon as a response that ends it has been written: the request asked
/// for `Connection: close`, or the server answered with it (an unparseable request head, e.g. a
/// 1 MB URL; a body too large to read to its end).
///
/// Hummingbird only half-closes such a connection and then waits for the client to close its
/// side. A client that does not (one still blocked sending a body nobody reads) held the socket
/// open for good, in FIN-WAIT-2 on the server. Requests may be pipelined, so each response is
/// matched with its own request's wish.
final class CloseAfterResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Per request read and not yet answered: whether it asked to close.
    private var requestsAskingClose: [Bool] = []
    private var responseEndsConnection = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            requestsAskingClose.append(Self.asksClose(head.headerFields))
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if Self.asksClose(head.headerFields) { responseEndsConnection = true }
        case .body:
            break
        case .end:
            let requestAsked = requestsAskingClose.isEmpty ? false : requestsAskingClose.removeFirst()
            if requestAsked || responseEndsConnection {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                let channel = context.channel
                written.futureResult.whenComplete { _ in channel.close(promise: nil) }
                context.writeAndFlush(data, promise: written)
                return
            }
        }
        context.write(data, promise: promise)
    }

    private static func asksClose(_ fields: HTTPFields) -> Bool {
        fields[values: .connection].contains { $0.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" } }
    }
}
