import Foundation
import Glibc
import GradingServer
import Rewards
import Testing

extension ServeDaemonTests {
    /// `assay serve` killed with SIGKILL while a `/run_code` program has forked 40 sleepers: every
    /// process of the box dies with the daemon, and the next start on the same state directory
    /// removes the box mount and state the dead daemon left.
    @Suite struct ServeKillTests {
        @Test func nothingOfABoxOutlivesAKilledDaemon() throws {
            let dir = try HostLeftovers.temporaryDirectory("assay-serve-kill")
            let state = dir + "/state"
            defer { HostLeftovers.removeTemporaryDirectory(dir) }
            let port = try ServeProcess.freePort()
            // Each sleeper carries this token in its command line (a sleep of 600.<digits> s).
            let token = "600.\(UInt64.random(in: 100_000_000...999_999_999))"
            let program = """
                import os, time
                for _ in range(40):
                    if os.fork() == 0:
                        os.execv("/usr/bin/sleep", ["sleep", "\(token)"])
                time.sleep(600)
                """
            let body = Array(JSONValue.object([("code", .string(program)), ("language", .string("python")),
                                               ("run_timeout", .number(120))]).jsonText.utf8)
            var server = try ServeProcess.start(port: port, database: dir + "/jobs.sqlite", stateDirectory: state)
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
            defer { for pid in HostLeftovers.processes(containing: token) { kill(pid, SIGKILL) } }
            // The request never gets an answer: the daemon dies under it.
            Thread { _ = try? LoopbackHTTPConnection(port: port, timeoutSeconds: 200).post("/run_code", body: body) }.start()

            var sleepers: [pid_t] = []
            let started = HostLeftovers.eventually(within: 60) {
                sleepers = HostLeftovers.processes(containing: token)
                return sleepers.count == 40
            }
            try #require(started, "the box started \(sleepers.count) of 40 sleepers")
            let uids = Set(sleepers.compactMap(HostLeftovers.uid(of:)))
            #expect(uids.count == 1 && uids.allSatisfy { $0 >= 2_000_000 }, "the sleepers run as \(uids), not the box's uid")
            #expect(!HostLeftovers.mounts(under: state).isEmpty, "the running box has no mount under \(state)")

            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            // Killed with its supervisor, not by a time limit: the run had 120 s left.
            var left: [pid_t] = []
            let gone = HostLeftovers.eventually(within: 20) {
                left = HostLeftovers.processes(containing: token)
                return left.isEmpty
            }
            #expect(gone, "\(left.count) box processes outlived the killed daemon: \(left.prefix(5))")

            // The dead daemon's box mount stays until the next start sweeps it.
            server = try ServeProcess.start(port: port, database: dir + "/jobs.sqlite", stateDirectory: state)
            // The new daemon has started its own Python zygote (prewarmed), whose root is mounted
            // as zygote-N in its state directory: one such mount is its own; anything else, or a
            // second one (the dead daemon's, stacked at the same path when the block is reused),
            // was left behind.
            let mounts = HostLeftovers.mounts(under: state)
            let zygoteRoots = mounts.filter { $0.split(separator: "/").last?.hasPrefix("zygote-") ?? false }
            #expect(mounts.count - zygoteRoots.count == 0 && zygoteRoots.count <= 1, "mounts left after the restart: \(mounts)")
            let blocks = HostLeftovers.stateDirectories(state)
            #expect(blocks.count == 1, "state directories after the restart (only the new daemon's may remain): \(blocks)")
            let (status, answer) = try LoopbackHTTPConnection(port: port).post("/run_code", body: Array(#"{"code": "print(6*7)", "language": "python"}"#.utf8))
            #expect(status == 200 && String(decoding: answer, as: UTF8.self).contains(#""stdout": "42\n""#),
                    "the restarted daemon's first run: \(status) \(String(decoding: answer, as: UTF8.self).prefix(300))")
        }
    }
}
