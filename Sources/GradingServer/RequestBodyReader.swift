import HTTPTypes
import Hummingbird
import NIOCore

/// A client that went away in the middle of its request body. Nobody is left to answer, and it
/// is no fault of the server's: it is counted as status 499 (nginx's "client closed request"),
/// never as a 500.
struct ClientClosedRequest: HTTPResponseError {
    var status: HTTPResponse.Status { HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request") }
    func response(from request: Request, context: some RequestContext) throws -> Response { Response(status: status) }
}

/// Reads a request body of at most `limit` bytes.
///
/// Past the limit the rest of the body is still read, and dropped, before the 413 is answered,
/// up to `drainLimit` more bytes: a client sends its whole body before it reads an answer, so an
/// earlier answer would leave it blocked in its send, and closing the connection under it would
/// reset it before it read the 413. A body larger still gets its 413 with `Connection: close`
/// at once, and the connection is closed after it (`CloseAfterResponseHandler`).
func readBody(_ request: Request, limit: Int, drainLimit: Int) async throws -> ByteBuffer {
    var body = ByteBuffer()
    var dropped = 0
    func tooLarge(closing: Bool) -> HTTPError {
        HTTPError(.contentTooLarge, headers: closing ? [.connection: "close"] : [:],
                  message: "the request body is larger than the limit of \(limit) bytes; split the batch or raise --max-body-mb")
    }
    do {
        for try await var chunk in request.body {
            if dropped == 0 && body.readableBytes + chunk.readableBytes <= limit {
                body.writeBuffer(&chunk)
                continue
            }
            dropped += chunk.readableBytes
            if dropped > drainLimit { throw tooLarge(closing: true) }
        }
    } catch let error as HTTPError {
        throw error
    } catch {
        // The body stream broke (the connection closed before the body's end).
        throw ClientClosedRequest()
    }
    if dropped > 0 { throw tooLarge(closing: false) }
    if let declared = request.headers[.contentLength].flatMap({ Int($0) }), body.readableBytes < declared {
        throw ClientClosedRequest()
    }
    return body
}
