import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Rewards

/// Gives the 400 for a request that is not valid HTTP/1.1 the body the API document promises for
/// every error: `{"error": {"message": ...}}` as application/json.
///
/// NIO's parser refuses such a request before any route sees it: a control byte (NUL, \x01, DEL)
/// in a header name or value, a malformed request line, a head past the size limits. Hummingbird
/// then answers 400 with an empty body and no Content-Type, which the document does not describe
/// (schemathesis sends header values with control bytes; its content-type and schema checks fail
/// on that answer). Only that answer is rewritten: the parser's error passes this handler on its
/// way to Hummingbird, which writes its 400 right after.
final class ParseErrorAnswerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The parser's error, until the 400 that answers it has been written.
    private var parseError: HTTPParserError?
    /// The body of the answer being rewritten, written before its end.
    private var pendingBody: ByteBuffer?

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { parseError = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where parseError != nil && head.status == .badRequest:
            let body = context.channel.allocator.buffer(string: Self.body(for: parseError!))
            parseError = nil
            pendingBody = body
            head.headerFields[.contentType] = "application/json; charset=utf-8"
            head.headerFields[.contentLength] = String(body.readableBytes)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body where pendingBody != nil:
            context.write(data, promise: promise)  // none expected: Hummingbird's answer is empty
        case .end(let trailers) where pendingBody != nil:
            let body = pendingBody!
            pendingBody = nil
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    /// `{"error": {"message": ...}}` naming what the parser refused.
    static func body(for error: HTTPParserError) -> String {
        let what: String
        switch error {
        case .invalidHeaderToken, .invalidCharactersUsed:
            what = "a header name or value holds a byte HTTP does not allow there (a control character such as NUL)"
        case .headerOverflow:
            what = "the request head is larger than the server reads"
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost, .invalidPort:
            what = "the request target is malformed"
        case .invalidMethod:
            what = "the method is malformed"
        case .invalidVersion:
            what = "the HTTP version is malformed"
        case .invalidContentLength, .unexpectedContentLength, .invalidChunkSize:
            what = "the body's length is malformed"
        default:
            what = "it could not be parsed"
        }
        let message = "the request is not valid HTTP/1.1: \(what) (\(error)); the connection is closed"
        return JSONValue.object([("error", .object([("message", .string(message))]))]).jsonText
    }
}
