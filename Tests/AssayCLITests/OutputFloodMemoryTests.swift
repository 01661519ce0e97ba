import Foundation
import Glibc
import Testing

/// A program that prints forever must cost the host only its output cap: measured on the real
/// `assay run` process (its own peak resident set, from wait4), not on the shared test process,
/// whose memory every other suite moves.
@Suite(.enabled(if: geteuid() == 0, "the sandbox needs root"))
struct OutputFloodMemoryTests {
    /// Forks `assay run` from a small interpreter and prints its peak resident set in KiB. Not
    /// spawned from the test process itself: a vfork-style spawn (posix_spawn, Process) execs in
    /// the parent's address space, and Linux keeps that address space's high-water mark as the
    /// new program's ru_maxrss, so the child would report the test process's hundreds of MiB.
    /// A fork from a fresh interpreter starts the count at that interpreter's few MiB.
    static let peakRSSOfChild = """
        import os, sys
        out, argv = sys.argv[1], sys.argv[2:]
        pid = os.fork()
        if pid == 0:
            os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            os.execv(argv[0], argv)
        print(os.wait4(pid, 0)[2].ru_maxrss)
        """

    @Test func aStdoutFloodCostsTheHostItsCapNotWhatWasWritten() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("assay-flood-\(UUID().uuidString).json").path
        defer { unlink(out) }
        // python3 writes about a gigabyte a second until its 4 s of CPU are up; the cap is the
        // profile's 16 MiB.
        let argv = [CLITests.binary, "run", "--profile", "python3", "--json", "--time-limit", "4",
                    CLITests.root + "/testdata/hostile/stdout_flood.py"]
        let measure = Process()
        measure.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        measure.arguments = ["-I", "-S", "-c", Self.peakRSSOfChild, out] + argv
        let report = Pipe()
        measure.standardOutput = report
        try measure.run()
        let printed = String(decoding: report.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        measure.waitUntilExit()
        let peakKiB = try #require(Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)),
                                   "the measuring interpreter printed \(printed.debugDescription)")
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(result?["status"] as? String == "OLE")
        #expect((result?["stdout"] as? String)?.utf8.count == 16 << 20)
        // The cap (16 MiB), its JSON copy and the runtime, far from the gigabytes the program
        // wrote.
        #expect(peakKiB < 256 << 10, "assay run peaked at \(peakKiB >> 10) MiB")
    }
}
