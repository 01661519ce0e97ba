import Foundation
import Testing

/// Black-box tests of the `assay` binary: what a user types, what they get back.
@Suite(.enabled(if: geteuid() == 0, "the sandbox needs root"))
struct CLITests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The binary sits beside the test bundle in the build directory.
    static let binary: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("assay").path
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func assay(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func jsonOutputIsExactlyOneObjectWithTheDocumentedFields() throws {
        let out = try assay(["run", "--profile", "python3", "--json", "--stdin", "testdata/examples/sum.in", "testdata/examples/sum.py"])
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "OK")
        #expect(object["stdout"] as? String == "10\n")
        for key in ["exit_code", "signal", "cpu_ms", "wall_ms", "memory_bytes", "stdout", "stderr"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
    }

    @Test func aVerdictIsNotAFailureOfAssay() throws {
        let dir = NSTemporaryDirectory() + "assay-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "raise SystemExit(4)\n".write(toFile: dir + "/fail.py", atomically: true, encoding: .utf8)
        let out = try assay(["run", "--profile", "python3", "--json", dir + "/fail.py"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("\"status\":\"RE\"") && out.stdout.contains("\"exit_code\":4"))
    }

    /// verl's parquet rows with call-based ground truth (one JSON argument per line, JSON text
    /// outputs): `assay grade` reads them as verl's harness does, `Solution` methods included.
    @Test func gradeReadsVerlCallBasedGroundTruth() throws {
        let out = try assay(["grade", "--problems", "testdata/problems/verl-fn-2.jsonl", "--responses", "testdata/responses/verl-fn-2.jsonl", "--jobs", "1"])
        #expect(out.status == 0, "\(out.stderr)")
        var rewards: [String: Int] = [:]
        for line in out.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            rewards[object["id"] as? String ?? "?"] = object["reward"] as? Int
        }
        #expect(rewards == ["choco-right": 1, "choco-wrong": 0, "words-right": 1, "words-wrong": 0], "\(out.stdout)")
    }

    @Test func cppCompilesAndRuns() throws {
        let out = try assay(["run", "--profile", "cpp", "--stdin", "testdata/examples/aplusb.in", "testdata/examples/aplusb.cpp"])
        #expect(out.status == 0)
        #expect(out.stdout == "7\n")
        #expect(out.stderr.contains("[OK]"))
    }

    @Test(arguments: [
        (["run", "--profile", "cobol", "testdata/examples/sum.py"], "unknown profile 'cobol'"),
        (["run", "--profile", "python3", "no/such/file.py"], "cannot read the source file 'no/such/file.py'"),
        (["run", "--profile", "python3", "--stdin", "missing.in", "testdata/examples/sum.py"], "cannot read the --stdin file"),
        (["run", "--profile", "python3", "--time-limit", "0", "testdata/examples/sum.py"], "--time-limit must be between"),
        (["run", "--profile", "python3", "--memory-limit", "999999999", "testdata/examples/sum.py"], "--memory-limit must be between"),
    ])
    func badInputIsAClearErrorAndANonZeroStatus(arguments: [String], message: String) throws {
        let out = try assay(arguments)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "stderr was: \(out.stderr)")
        #expect(out.stdout.isEmpty)
    }
}
