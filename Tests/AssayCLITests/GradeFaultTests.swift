import Foundation
import Glibc
import Testing

/// `assay grade` when things go wrong around it: its reader goes away, it is killed with SIGKILL,
/// its `--out` file was torn by a crash or holds errors. Each run gets a state directory of its
/// own, so what it leaves there is its own.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the sandbox needs root"))
struct GradeFaultTests {
    static let answer = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"

    /// `count` responses to the native `add` problem, ids r0, r1, …
    static func responses(_ count: Int, response: String = answer) -> String {
        (0..<count).map { #"{"problem_id": "add", "id": "r\#($0)", "response": \#(jsonString(response))}"# }
            .joined(separator: "\n") + "\n"
    }

    static func jsonString(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: s, options: .fragmentsAllowed), as: UTF8.self)
    }

    /// `assay grade` on `dir`'s responses with its own state directory; quiet unless the caller
    /// sets the outputs.
    static func grade(_ dir: String, _ extra: [String]) -> Process {
        let p = Process()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["grade", "--problems", "testdata/problems/native.jsonl", "--responses", dir + "/responses.jsonl",
                       "--state-dir", dir + "/state"] + extra
        p.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        return p
    }

    /// What a run left in its state directory: mounts and state directories of uid blocks.
    static func leftovers(_ dir: String) -> [String] {
        HostLeftovers.mounts(under: dir + "/state") + HostLeftovers.stateDirectories(dir + "/state")
    }

    @Test func aClosedStdoutEndsGradingCleanly() throws {
        let dir = try HostLeftovers.temporaryDirectory("assay-grade-pipe")
        defer { HostLeftovers.removeTemporaryDirectory(dir) }
        try Self.responses(200).write(toFile: dir + "/responses.jsonl", atomically: true, encoding: .utf8)
        let p = Self.grade(dir, ["--jobs", "1"])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // `| head -1`: read one line, then close the read end.
        var first: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(out.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") { first.append(byte) }
        try out.fileHandleForReading.close()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let message = String(decoding: stderr, as: UTF8.self)
        #expect(String(decoding: first, as: UTF8.self).contains(#""reward": 1,"#), "first line: \(String(decoding: first, as: UTF8.self))")
        // 141 (128 + SIGPIPE) through a normal exit, not a trap (132) or death by the signal.
        #expect(p.terminationReason == .exit && p.terminationStatus == 141, "status \(p.terminationStatus) (\(p.terminationReason)): \(message.suffix(800))")
        #expect(message.contains("the reader of the results closed its end"), "\(message.suffix(800))")
        #expect(!message.contains("graded 200 responses"), "it graded every response after its reader had gone")
        #expect(Self.leftovers(dir).isEmpty, "left behind: \(Self.leftovers(dir))")
    }

    @Test func aKilledGradeLeavesNothingAfterTheNextStart() throws {
        let dir = try HostLeftovers.temporaryDirectory("assay-grade-kill")
        defer { HostLeftovers.removeTemporaryDirectory(dir) }
        let token = "600.\(UInt64.random(in: 100_000_000...999_999_999))"
        let sleeper = "```python\nimport os\nos.execv('/usr/bin/sleep', ['sleep', '\(token)'])\n```"
        try Self.responses(1, response: sleeper).write(toFile: dir + "/responses.jsonl", atomically: true, encoding: .utf8)
        let p = Self.grade(dir, ["--time-limit", "300", "--out", dir + "/results.jsonl"])
        try p.run()
        defer { for pid in HostLeftovers.processes(containing: token) { kill(pid, SIGKILL) } }
        let running = HostLeftovers.eventually(within: 60) { !HostLeftovers.processes(containing: token).isEmpty }
        try #require(running, "the graded program never started")
        #expect(!HostLeftovers.mounts(under: dir + "/state").isEmpty, "the running box has no mount in the state directory")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(HostLeftovers.eventually(within: 20) { HostLeftovers.processes(containing: token).isEmpty },
                "the graded program outlived the killed grade")

        // The next run on the same state directory sweeps what the killed one left.
        try Self.responses(1).write(toFile: dir + "/responses.jsonl", atomically: true, encoding: .utf8)
        let again = Self.grade(dir, ["--out", dir + "/results.jsonl"])
        try again.run()
        again.waitUntilExit()
        #expect(again.terminationStatus == 0)
        // A lazily unmounted box of the killed run can take a moment to go on a loaded host;
        // what is still there after 10 s is a leak.
        #expect(HostLeftovers.eventually(within: 10) { Self.leftovers(dir).isEmpty }, "left behind: \(Self.leftovers(dir))")
    }

    @Test func resumingLeavesExactlyOneCompleteLinePerResponse() throws {
        let dir = try HostLeftovers.temporaryDirectory("assay-grade-resume")
        defer { HostLeftovers.removeTemporaryDirectory(dir) }
        try Self.responses(4).write(toFile: dir + "/responses.jsonl", atomically: true, encoding: .utf8)
        // r0 graded, r1 errored, r2 torn in the middle of its write by a crash.
        let graded = #"{"problem_id":"add","id":"r0","response_line":1,"reward":1,"reason":"passed","tests_selected":2,"tests":[]}"#
        let errored = #"{"problem_id":"add","id":"r1","response_line":2,"reward":null,"reason":"error","tests_selected":0,"tests":[],"error":"sandbox failed"}"#
        let torn = #"{"problem_id":"add","id":"r2","response_line":3,"rew"#
        try (graded + "\n" + errored + "\n" + torn).write(toFile: dir + "/results.jsonl", atomically: true, encoding: .utf8)

        let p = Self.grade(dir, ["--out", dir + "/results.jsonl"])
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(message.suffix(800))")
        #expect(message.contains("1 already graded"), "\(message.suffix(800))")

        let text = try String(contentsOfFile: dir + "/results.jsonl", encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "lines that are not complete JSON objects: \(lines.filter { !$0.hasPrefix("{") || !$0.hasSuffix("}") })")
        #expect(objects.compactMap { $0["id"] as? String }.sorted() == ["r0", "r1", "r2", "r3"], "\(text)")
        #expect(objects.allSatisfy { $0["reward"] as? Int == 1 }, "\(text)")
        #expect(lines.first.map(String.init) == graded, "the result graded before the crash was not kept as it was")
    }
}
