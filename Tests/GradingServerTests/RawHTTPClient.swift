import HostFiles
import Foundation
import Glibc

/// A loopback TCP client that sends whatever bytes a test gives it (half a request head, a body
/// shorter than its Content-Length, a 1 MB URL) and reads what comes back until the server
/// closes. Blocking, with receive and send timeouts as liveness limits for a server that hangs.
final class RawHTTPClient {
    let fd: Int32
    /// The client's own port: the server's socket of this connection is (server port, this).
    let localPort: Int

    /// - Parameter sendBufferBytes: a small one makes a send block as soon as the server stops
    ///   reading, instead of vanishing into the kernel's buffers.
    init(port: Int, timeoutSeconds: Int = 30, sendBufferBytes: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = sendBufferBytes { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { close(fd); throw POSIXError(.ECONNREFUSED) }
        localPort = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }

    /// Sends every byte; false once the server has closed or reset the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    /// What the server sent until it closed (`closed`), or until the receive timeout (not closed).
    func readToEnd() -> (bytes: [UInt8], closed: Bool) {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { out += chunk[0..<n]; continue }
            if n == 0 { return (out, true) }
            if errno == EINTR { continue }
            // A reset also ends the connection; a timeout does not.
            return (out, errno == ECONNRESET)
        }
    }

    /// The status code of the first response in `bytes`, if any.
    static func status(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// Whether a process still holds the server's socket of the connection from `clientPort`
    /// to `serverPort` (IPv4 loopback). A socket the server has closed may linger in the kernel
    /// for a while (FIN-WAIT-2, TIME-WAIT), but it no longer belongs to a process: inode 0.
    static func serverHoldsSocket(serverPort: Int, clientPort: Int) -> Bool {
        // Read whole with a read loop: Foundation stops after one read of a /proc file (its size
        // reads 0), and the table runs past 4 KiB while other tests hold connections.
        guard let table = wholeTextFile("/proc/net/tcp") else { return true }
        let local = String(format: ":%04X", serverPort), remote = String(format: ":%04X", clientPort)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9 else { return false }
            return fields[1].hasSuffix(local) && fields[2].hasSuffix(remote) && fields[9] != "0"
        }
    }
}

