import Foundation
import Glibc
import Rewards
import Testing
import Training

/// The trainer's `--grader-url` client against the real `assay serve`.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the sandbox needs root"))
struct RemoteGraderTests {
    @Test func aRemoteServeGradesGroupsAndAFailureIsNeverAZero() throws {
        let port = try ServeProcess.freePort()
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("assay-remote-\(UUID().uuidString).sqlite").path
        defer { unlink(db) }
        let server = try ServeProcess.start(port: port, database: db, data: CLITests.root + "/testdata/training")
        defer { server.terminate(); server.waitUntilExit() }
        let problems = try ProblemLoader.load(path: CLITests.root + "/testdata/training/echo-and-double.jsonl").problems
        let grader = RemoteGrader(url: URL(string: "http://127.0.0.1:\(port)")!, maxTests: 15, memoryMiB: 256)
        let echo = try #require(problems.first { $0.id == "echo" })
        let results = grader.grade(problem: echo, responses: ["```python\nprint(input())\n```", "no code", "```python\nprint(1)\n```"])
        #expect(results.map(\.reward) == [1, 0, 0], "\(results)")
        #expect(results.map(\.reason) == ["passed", "no_code", "wrong_answer"])
        // A problem the server does not know: the group is ungraded (nil with an error), not 0.
        var unknown = echo
        unknown.id = "not-loaded"
        let failed = grader.grade(problem: unknown, responses: ["```python\nprint(input())\n```"])
        #expect(failed.map(\.reward) == [nil] && failed[0].error?.contains("404") == true, "\(failed)")
        // Nobody listening: the same.
        let down = RemoteGrader(url: URL(string: "http://127.0.0.1:\(try ServeProcess.freePort())")!)
        #expect(down.grade(problem: echo, responses: ["x"]).map(\.reward) == [nil])
    }
}
