import Foundation
import Glibc
import Sandboxing
import Testing

/// A uid block whose holder died is handed out again only once nothing runs with its uids: an
/// orphan of the dead holder's box (one that escaped its parent-death signal) is killed first, so
/// a new run never shares its uid, its pids limit or its cgroup with it.
@Suite(.enabled(if: TestSupport.isRoot, "the sandbox needs root"))
struct UidBlockReuseTests {
    @Test func anOrphanOfADeadHoldersBlockIsKilledBeforeTheBlockIsReused() throws {
        // A block far above the ones the other suites claim, picked at random so that parallel
        // test processes do not meet; its lock is free (no holder), as after a SIGKILL.
        let block = Int.random(in: 200_000...900_000)
        let orphanUid = block * 4096 + 7
        let token = "600.\(UInt64.random(in: 100_000_000...999_999_999))"
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        orphan.arguments = ["--reuid=\(orphanUid)", "--regid=\(orphanUid)", "--clear-groups", "/usr/bin/sleep", token]
        try orphan.run()
        defer { if orphan.isRunning { kill(orphan.processIdentifier, SIGKILL) } }
        // Started means running as the orphan's uid: setpriv's own command line holds the token
        // too, while it still runs as root, and a root process is no orphan of the block.
        let started = (0..<500).contains { _ in
            let status = (try? String(contentsOfFile: "/proc/\(orphan.processIdentifier)/status", encoding: .utf8)) ?? ""
            if status.split(separator: "\n").contains(where: { $0.hasPrefix("Uid:") && $0.split(separator: "\t").dropFirst().allSatisfy { $0 == "\(orphanUid)" } }) {
                return true
            }
            usleep(10_000)
            return false
        }
        try #require(started, "the orphan did not start")

        let state = NSTemporaryDirectory() + "assay-uid-reuse-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let sandbox = try Sandbox(configuration: .init(stateDirectory: state, uidBase: uid_t(block * 4096)))
        // The block was free, so it is the one claimed, and the orphan is gone by then.
        #expect(sandbox.uidRange.contains(uid_t(orphanUid)), "claimed \(sandbox.uidRange), not block \(block)")
        // Sandbox init returned only once the orphan was dead; its exit status may take a moment
        // to be collected here.
        _ = (0..<500).contains { _ in
            if !orphan.isRunning { return true }
            usleep(10_000)
            return false
        }
        try #require(!orphan.isRunning, "the orphan still runs with the claimed block's uid \(orphanUid)")
        #expect(orphan.terminationReason == .uncaughtSignal && orphan.terminationStatus == SIGKILL,
                "the orphan ended with \(orphan.terminationReason) \(orphan.terminationStatus)")
    }
}
