import Foundation
import Glibc
import GradingServer
import Rewards
import Testing

/// `assay serve` as a user runs it: killed with SIGKILL in the middle of a job and started again
/// on the same database, it finishes the job, each item's result stored exactly once, and the
/// boxes that were running die with the daemon.
@Suite(.enabled(if: geteuid() == 0, "the sandbox needs root"), .serialized)
struct ServeCrashTests {
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
    static func startServer(port: Int, database: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["serve", "--port", "\(port)", "--db", database, "--workers", "1"]
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

    /// Processes whose command line names the box init (every box's pid 1).
    static func boxProcesses() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { pid in
            guard pid.allSatisfy(\.isNumber), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains("/.assay-init")
        }
    }

    @Test func aKilledDaemonFinishesItsJobAfterARestartExactlyOnce() throws {
        let dir = NSTemporaryDirectory() + "assay-crash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = dir + "/jobs.sqlite", port = try Self.freePort()
        let boxesBefore = Set(Self.boxProcesses())

        // Eight items of 0.4 s each on one worker: about 3.5 s of work.
        let total = 8
        let code = JSONValue.string("import time\ntime.sleep(0.4)\nprint(input())").jsonText
        let items = (0..<total).map { i in
            #"{"id": "item-\#(i)", "problem": {"tests": [{"stdin": "\#(i)\n", "stdout": "\#(i)\n"}]}, "code": \#(code)}"#
        }
        var server = try Self.startServer(port: port, database: database)
        // Whatever fails below, no daemon started here outlives the test.
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        let (status, body) = try LoopbackHTTPConnection(port: port).post("/v1/jobs", body: Array(#"{"items": [\#(items.joined(separator: ","))]}"#.utf8))
        try #require(status == 202, "POST /v1/jobs: \(status) \(String(decoding: body, as: UTF8.self))")
        let id = try #require(try JSONValue(parsing: body[...])["id"]?.stringValue)

        // Kill it once some, not all, items have results.
        var storedBeforeKill = 0
        var last: JSONValue = .null
        for _ in 0..<1500 {  // 30 s at most: the first box of a fresh daemon may start slowly on a busy machine
            last = try Self.job(port, id)
            storedBeforeKill = last["completed"]?.intValue ?? 0
            if storedBeforeKill >= 2 { break }
            usleep(20_000)
        }
        try #require(storedBeforeKill >= 2 && storedBeforeKill < total, "the job had \(storedBeforeKill) results when the kill was due: \(last.jsonText.prefix(400))")
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        #expect(server.terminationReason == .uncaughtSignal)

        // The box that was running dies with the daemon (its init asked for SIGKILL on that death).
        var stray: [String] = []
        for _ in 0..<50 {
            stray = Self.boxProcesses().filter { !boxesBefore.contains($0) }
            if stray.isEmpty { break }
            usleep(100_000)
        }
        #expect(stray.isEmpty, "box processes outlived the killed daemon: \(stray)")

        server = try Self.startServer(port: port, database: database)
        var done: JSONValue = .null
        for _ in 0..<1200 {  // 60 s at most
            done = try Self.job(port, id)
            if done["status"] == "done" { break }
            usleep(50_000)
        }
        #expect(done["status"] == "done", "\(done.jsonText.prefix(500))")
        #expect(done["completed"]?.intValue == total)
        let results = done["results"]?.arrayValue ?? []
        #expect(results.count == total)
        #expect(results.compactMap { $0["index"]?.intValue } == Array(0..<total))
        #expect(results.allSatisfy { $0["reward"] == 1 }, "\(done.jsonText.prefix(800))")
        // Only what had no stored result ran again: never an item graded before the kill.
        let rerun = try Self.runsCounted(port)
        #expect(rerun >= 1 && rerun <= total - storedBeforeKill, "\(rerun) runs after the restart, \(storedBeforeKill) results stored before it")
    }
}
