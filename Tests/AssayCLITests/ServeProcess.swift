import Foundation
import Glibc
import GradingServer
import Rewards
import Testing

/// The real `assay serve` binary as the black-box serve tests drive it: started on a free port
/// and its own database, spoken to over loopback HTTP, its boxes found by their init's name.
enum ServeProcess {
    /// A port nothing listens on now (bound to port 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(ok, "cannot find a free port")
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Starts `assay serve` and waits until /healthz answers (20 s at most).
    static func start(port: Int, database: String, workers: Int = 1, data: String? = nil, stateDirectory: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["serve", "--port", "\(port)", "--db", database, "--workers", "\(workers)"]
            + (data.map { ["--data", $0] } ?? []) + (stateDirectory.map { ["--state-dir", $0] } ?? [])
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let (status, _) = try? LoopbackHTTPConnection(port: port).get("/healthz"), status == 200 { return process }
            usleep(100_000)
        }
        process.terminate()
        Issue.record("assay serve did not answer /healthz within 20 s")
        return process
    }

    static func job(_ port: Int, _ id: String) throws -> JSONValue {
        let (status, body) = try LoopbackHTTPConnection(port: port).get("/v1/jobs/\(id)")
        try #require(status == 200, "GET /v1/jobs/\(id): \(status) \(String(decoding: body, as: UTF8.self))")
        return try JSONValue(parsing: body[...])
    }

    /// Sandbox runs counted by /metrics (`assay_verdicts_total`, all verdicts).
    static func runsCounted(_ port: Int) throws -> Int {
        let (_, body) = try LoopbackHTTPConnection(port: port).get("/metrics")
        return String(decoding: body, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("assay_verdicts_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
            .reduce(0, +)
    }

    /// Box inits (every box's pid 1, found by its command line) that are not this test process's
    /// own children: the boxes of `assay serve` daemons, live or dead. The in-process suites
    /// running beside these tests spawn boxes of their own all the time; those are left out.
    /// Fails closed: an unreadable /proc is recorded as an issue and reported as a box.
    static func daemonBoxes() -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch {
            Issue.record("cannot list /proc: \(error)")
            return ["cannot list /proc"]
        }
        return entries.filter { pid in
            guard pid.allSatisfy(\.isNumber), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains("/.assay-init") else { return false }
            return parent(of: pid) != getpid()
        }
    }

    /// The parent pid from /proc/<pid>/stat: the field after the parenthesised command name.
    private static func parent(of pid: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let stat = String(decoding: data, as: UTF8.self)
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}

/// The black-box daemon suites run one at a time: each counts the boxes of the daemon it started,
/// and a daemon of the other suite would be counted with them.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the sandbox needs root"))
struct ServeDaemonTests {}
