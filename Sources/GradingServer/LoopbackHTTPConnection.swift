import Foundation
import Glibc

/// A minimal blocking HTTP/1.1 client over one keep-alive loopback connection, for
/// `assay bench serve` and the load tests: many real connections at once, on plain threads,
/// without pulling an HTTP client library into the CLI. Not thread-safe: one per thread.
public final class LoopbackHTTPConnection: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private let fd: Int32
    private let timeoutSeconds: Int
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`. A read that waits `timeoutSeconds` for the server throws,
    /// so a server that hangs fails its caller instead of hanging it.
    public init(port: Int, timeoutSeconds: Int = 120) throws {
        self.timeoutSeconds = timeoutSeconds
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// POSTs a JSON body and returns the status and the response body (Content-Length framed).
    public func post(_ path: String, body: [UInt8]) throws -> (Int, [UInt8]) {
        try exchange("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n", body)
    }

    /// GETs `path` and returns the status and the response body.
    public func get(_ path: String) throws -> (Int, [UInt8]) {
        try exchange("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", [])
    }

    private func exchange(_ head: String, _ body: [UInt8]) throws -> (Int, [UInt8]) {
        try writeAll(Array(head.utf8) + body)
        // Headers up to the blank line.
        var end: Int?
        while end == nil {
            if let r = find([13, 10, 13, 10]) { end = r } else { try fill() }
        }
        let headerText = String(decoding: buffer[..<end!], as: UTF8.self)
        buffer.removeFirst(end! + 4)
        let lines = headerText.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "malformed HTTP response: \(headerText.prefix(200))")
        }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" { length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0 }
        }
        while buffer.count < length { try fill() }
        let bodyBytes = Array(buffer[..<length])
        buffer.removeFirst(length)
        return (status, bodyBytes)
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] && Array(buffer[i..<i + pattern.count]) == pattern { return i }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &chunk, chunk.count)
        if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
            throw Failure(description: "no response from the server within \(timeoutSeconds) s")
        }
        guard n > 0 else { throw Failure(description: "the server closed the connection") }
        buffer += chunk[..<n]
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}
