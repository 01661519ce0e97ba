import Foundation
import Glibc
import GradingServer
import Rewards
import Sandboxing
import Testing

extension ServeDaemonTests {
    /// The daemon's memory under many connections, measured on the real `assay serve` process (the
    /// in-process load tests share their process with every suite running beside them, whose
    /// allocations would drown a leak or fake one).
    @Suite struct ServeMemoryTests {
        /// 64 clients, each on its own keep-alive connection, send /v1/grade batches of real
        /// sandboxed Python in three waves. Every request is answered 200 with its own rewards, and
        /// after the first wave (connections, pools and caches warmed) the next two leave the
        /// daemon's resident set where the first left it: nothing is kept per request.
        @Test func sixtyFourConnectionsLeaveTheDaemonsMemoryFlat() async throws {
            let dir = NSTemporaryDirectory() + "assay-memory-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let port = try ServeProcess.freePort()
            let server = try ServeProcess.start(port: port, database: dir + "/jobs.sqlite", workers: 2)
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
            let pid = server.processIdentifier

            let clients = 64, items = 2, waves = 3
            let code = JSONValue.string("print(input())").jsonText
            var resident: [Int] = []
            for wave in 0..<waves {
                let failures = await onBlockingThreads(clients) { c in
                    let tag = "w\(wave)c\(c)"
                    let batch = (0..<items).map { i in
                        #"{"id": "\#(tag)i\#(i)", "problem": {"tests": [{"stdin": "\#(tag)i\#(i)\n", "stdout": "\#(tag)i\#(i)\n"}]}, "code": \#(code)}"#
                    }
                    let (status, body) = try LoopbackHTTPConnection(port: port).post("/v1/grade", body: Array(#"{"items": [\#(batch.joined(separator: ","))]}"#.utf8))
                    let results = try JSONValue(parsing: body[...])["results"]?.arrayValue ?? []
                    guard status == 200, results.count == items, results.allSatisfy({ $0["reward"] == 1 }) else {
                        throw LoopbackHTTPConnection.Failure(description: "\(tag): HTTP \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
                    }
                }
                #expect(failures.isEmpty, "\(failures.count) clients failed, first: \(failures.first.map { "\($0)" } ?? "")")
                resident.append(ProcessMemory.residentBytes(pid: pid))
            }
            let mib = resident.map { $0 >> 20 }
            print("assay serve: resident MiB after each wave of \(clients) connections: \(mib), peak \(ProcessMemory.peakResidentBytes(pid: pid) >> 20)")
            #expect(resident.allSatisfy { $0 > 0 }, "the daemon's /proc status was unreadable: \(mib)")
            #expect(resident[waves - 1] - resident[0] < 16 << 20, "resident MiB after each wave: \(mib)")
            let peak = ProcessMemory.peakResidentBytes(pid: pid)
            #expect(peak < 256 << 20, "peak resident \(peak >> 20) MiB; after each wave \(mib)")
            #expect(try ServeProcess.runsCounted(port) == waves * clients * items)
        }
    }
}
