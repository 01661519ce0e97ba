import Foundation
import Glibc
import Testing

/// A program that prints forever must cost the host only its output cap: measured on the real
/// `assay run` process (its own peak resident set, from wait4), not on the shared test process,
/// whose memory every other suite moves.
@Suite(.enabled(if: geteuid() == 0, "the sandbox needs root"))
struct OutputFloodMemoryTests {
    @Test func aStdoutFloodCostsTheHostItsCapNotWhatWasWritten() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("assay-flood-\(UUID().uuidString).json").path
        defer { unlink(out) }
        // python3 writes about a gigabyte a second until its 4 s of CPU are up; the cap is the
        // profile's 16 MiB.
        let argv = [CLITests.binary, "run", "--profile", "python3", "--json", "--time-limit", "4",
                    CLITests.root + "/testdata/hostile/stdout_flood.py"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, CLITests.binary, &actions, nil, &cArgs, environ)
        try #require(rc == 0, "posix_spawn failed: \(rc)")
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(result?["status"] as? String == "OLE")
        #expect((result?["stdout"] as? String)?.utf8.count == 16 << 20)
        // ru_maxrss is in KiB: the cap (16 MiB), its JSON copy and the runtime, far from the
        // gigabytes the program wrote.
        #expect(usage.ru_maxrss < 256 << 10, "assay run peaked at \(usage.ru_maxrss >> 10) MiB")
    }
}
