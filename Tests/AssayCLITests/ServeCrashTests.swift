import Foundation
import Glibc
import GradingServer
import Rewards
import Testing

extension ServeDaemonTests {
    /// `assay serve` as a user runs it: killed with SIGKILL in the middle of a job and started again
    /// on the same database, it finishes the job, each item's result stored exactly once, and the
    /// boxes that were running die with the daemon.
    @Suite struct ServeCrashTests {
        @Test func aKilledDaemonFinishesItsJobAfterARestartExactlyOnce() throws {
            let dir = NSTemporaryDirectory() + "assay-crash-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let database = dir + "/jobs.sqlite", port = try ServeProcess.freePort()
            let boxesBefore = Set(ServeProcess.daemonBoxes())

            // Eight items of 0.4 s each on one worker: about 3.5 s of work.
            let total = 8
            let code = JSONValue.string("import time\ntime.sleep(0.4)\nprint(input())").jsonText
            let items = (0..<total).map { i in
                #"{"id": "item-\#(i)", "problem": {"tests": [{"stdin": "\#(i)\n", "stdout": "\#(i)\n"}]}, "code": \#(code)}"#
            }
            var server = try ServeProcess.start(port: port, database: database)
            // Whatever fails below, no daemon started here outlives the test.
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
            let (status, body) = try LoopbackHTTPConnection(port: port).post("/v1/jobs", body: Array(#"{"items": [\#(items.joined(separator: ","))]}"#.utf8))
            try #require(status == 202, "POST /v1/jobs: \(status) \(String(decoding: body, as: UTF8.self))")
            let id = try #require(try JSONValue(parsing: body[...])["id"]?.stringValue)

            // Kill it once some, not all, items have results.
            var storedBeforeKill = 0
            var last: JSONValue = .null
            for _ in 0..<1500 {  // 30 s at most: the first box of a fresh daemon may start slowly on a busy machine
                last = try ServeProcess.job(port, id)
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
                stray = ServeProcess.daemonBoxes().filter { !boxesBefore.contains($0) }
                if stray.isEmpty { break }
                usleep(100_000)
            }
            #expect(stray.isEmpty, "box processes outlived the killed daemon: \(stray)")

            server = try ServeProcess.start(port: port, database: database)
            var done: JSONValue = .null
            for _ in 0..<1200 {  // 60 s at most
                done = try ServeProcess.job(port, id)
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
            let rerun = try ServeProcess.runsCounted(port)
            #expect(rerun >= 1 && rerun <= total - storedBeforeKill, "\(rerun) runs after the restart, \(storedBeforeKill) results stored before it")
        }
    }
}
