import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

/// The server at the edges of HTTP, over real sockets: bodies too large, heads too large or never
/// finished, clients that leave mid-body. After each, the server must have answered as far as
/// the client lets it and must hold no socket of the connection (checked in /proc/net/tcp).
@Suite("HTTP edges", .serialized, .onServerThreads)
struct HTTPEdgeTests {
    static let limit = 64 << 10

    /// - Parameter idleTimeout: 1 s only for the test of the idle timeout itself: elsewhere a
    ///   loaded machine (the full suite) can stall a client's send past it, and the connection
    ///   would be closed before its answer.
    static func withServer(idleTimeout: Int = 30, _ body: (Int) async throws -> Void) async throws {
        let server = try await InProcessServer.start(TestEnv.config(StubBackend()) {
            $0.quiet = true
            $0.maxBodyBytes = limit
            $0.idleTimeoutSeconds = idleTimeout
        }, executor: ServerThreads.shared)
        do { try await body(server.port) } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    static func released(_ port: Int, _ client: RawHTTPClient) async throws -> Bool {
        try await eventually { !RawHTTPClient.serverHoldsSocket(serverPort: port, clientPort: client.localPort) }
    }

    static func post(_ size: Int, close: Bool) -> String {
        "POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    @Test func aTooLargeBodyWithConnectionCloseGetsItsStatusAndTheConnectionEnds() async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port, sendBufferBytes: 16 << 10)
            let size = 4 * Self.limit + Self.limit / 2  // past the limit, within what is drained
            client.send(Self.post(size, close: true))
            // The whole body is read (and dropped) before the answer: a client that sends all of
            // it before reading is never left blocked in its send (more than the kernel buffers).
            #expect(client.send([UInt8](repeating: UInt8(ascii: "a"), count: size)), "the client was left blocked in its send")
            let (bytes, closed) = client.readToEnd()
            #expect(RawHTTPClient.status(bytes) == 413, "\(String(decoding: bytes.prefix(300), as: UTF8.self))")
            #expect(String(decoding: bytes, as: UTF8.self).contains("larger than the limit of \(Self.limit) bytes"))
            #expect(closed, "the server did not close the connection after its 413")
            // The client still holds its end open; the server's end is released all the same.
            #expect(try await Self.released(port, client), "the server still holds the connection's socket")
        }
    }

    @Test func aBodyFarPastTheLimitIsCutOffAndTheConnectionEnds() async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port)
            client.send(Self.post(64 * Self.limit, close: false))
            _ = client.send([UInt8](repeating: UInt8(ascii: "a"), count: 64 * Self.limit))  // may be cut off by the close
            let (bytes, closed) = client.readToEnd()
            #expect(closed, "the server did not end the connection")
            if let status = RawHTTPClient.status(bytes) { #expect(status == 413) }
            #expect(try await Self.released(port, client), "the server still holds the connection's socket")
        }
    }

    @Test func aTooLargeBodyOnAKeepAliveConnectionLeavesItUsable() async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port)
            client.send(Self.post(2 * Self.limit, close: false))
            client.send([UInt8](repeating: UInt8(ascii: "a"), count: 2 * Self.limit))
            client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            let (bytes, closed) = client.readToEnd()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(RawHTTPClient.status(bytes) == 413, "\(text.prefix(300))")
            #expect(text.contains("HTTP/1.1 200"), "the request after the 413 got no answer: \(text.prefix(600))")
            #expect(closed)
        }
    }

    @Test func aMegabyteURLIsRefusedAndTheConnectionEnds() async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port)
            _ = client.send("GET /" + String(repeating: "x", count: 1 << 20) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let (bytes, closed) = client.readToEnd()
            #expect(closed, "the server did not end the connection")
            if let status = RawHTTPClient.status(bytes) { #expect((400..<500).contains(status)) }
            #expect(try await Self.released(port, client), "the server still holds the connection's socket")
        }
    }

    /// A header value with a control byte (schemathesis sends them, NUL among others) is refused
    /// by the HTTP parser before any route sees the request. The answer is still the 400 the
    /// document describes, with its JSON error body (Hummingbird's own was empty, without a
    /// Content-Type), and the connection ends.
    @Test(arguments: ["a\u{0}b", "\u{0}", "a\u{1}b", "a\u{7f}b"])
    func aHeaderWithAControlByteGetsTheDocumentedBadRequest(_ value: String) async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port)
            client.send("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nIdempotency-Key: \(value)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            let (bytes, closed) = client.readToEnd()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(RawHTTPClient.status(bytes) == 400, "\(text.prefix(300))")
            let parts = text.components(separatedBy: "\r\n\r\n")
            let head = parts[0].lowercased().split(separator: "\r\n").map(String.init)
            let body = parts.dropFirst().joined(separator: "\r\n\r\n")
            #expect(head.contains { $0.hasPrefix("content-type: application/json") }, "\(parts[0])")
            #expect(head.contains("content-length: \(body.utf8.count)"), "\(parts[0])")
            let message = (try? JSONValue(parsing: body))?["error"]?["message"]?.stringValue
            #expect(message?.contains("not valid HTTP/1.1") == true, "body: \(body.prefix(300))")
            #expect(closed, "the server did not end the connection")
            #expect(try await Self.released(port, client), "the server still holds the connection's socket")
        }
    }

    @Test func aHalfSentHeadIsClosedAfterTheIdleTimeout() async throws {
        try await Self.withServer(idleTimeout: 1) { port in
            let client = try RawHTTPClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  // no blank line: the head never ends
            let (bytes, closed) = client.readToEnd()  // 30 s receive timeout; the server's idle timeout is 1 s
            #expect(closed && bytes.isEmpty, "the half-sent head was held open (\(bytes.count) bytes back)")
            #expect(try await Self.released(port, client))
        }
    }

    @Test func aClientLeavingMidBodyIsNotCountedAsAServerError() async throws {
        try await Self.withServer { port in
            let client = try RawHTTPClient(port: port)
            client.send(Self.post(1000, close: false) + #"{"items": ["#)
            shutdown(client.fd, Int32(SHUT_RDWR))
            #expect(try await Self.released(port, client))
            var metrics = ""
            let counted = try await eventually {
                metrics = (try? LoopbackHTTPConnection(port: port).get("/metrics")).map { String(decoding: $0.1, as: UTF8.self) } ?? ""
                return metrics.contains(#"assay_http_requests_total{route="/v1/grade",status="499"} 1"#)
            }
            #expect(counted, "\(metrics.split(separator: "\n").filter { $0.hasPrefix("assay_http_requests_total") })")
            #expect(!metrics.contains(#"status="500""#))
        }
    }

    @Test func unknownPathsAndMethodsGetJSONErrors() async throws {
        let app = try await buildApplication(TestEnv.config())
        try await app.test(.router) { client in
            let missing = try await client.get("/nope")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try missing.json["error"]?["message"]?.stringValue?.contains("/openapi.json") == true)
            // A trailing slash is another path: not POST-only /v1/jobs, and no job has an empty id
            // (schemathesis' stateful phase asked for GET /v1/jobs/ and got an undocumented 405).
            for path in ["/v1/jobs/", "/v1/jobs//"] {
                #expect(try await client.get(path).status == .notFound, "GET \(path)")
            }
            for (method, path, allow) in [(HTTPRequest.Method.trace, "/run_code", "POST"), (.get, "/run_code", "POST"),
                                          (.delete, "/v1/jobs/abc", "GET"), (.put, "/healthz", "GET")] {
                let r = try await client.execute(uri: path, method: method)
                #expect(r.status == .methodNotAllowed, "\(method) \(path): \(r.status)")
                #expect(r.headers[.allow] == allow, "\(method) \(path)")
                #expect(r.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test func theDocumentDeclaresTheBearerOnlyWhereTheServerRequiresIt() async throws {
        for token in [nil, "0123456789abcdef0123"] {
            let app = try await buildApplication(TestEnv.config { $0.token = token })
            try await app.test(.router) { client in
                let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
                let doc = try await client.get("/openapi.json", headers: headers).json
                #expect((doc["security"] != nil) == (token != nil), "token \(token ?? "none"): security \(doc["security"]?.jsonText ?? "absent")")
                #expect(doc["paths"]?["/healthz"]?["get"]?["security"] == .array([]))
            }
        }
    }
}
