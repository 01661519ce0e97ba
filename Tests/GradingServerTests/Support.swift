import Foundation
import Glibc
import GradingServer
import Hummingbird
import HummingbirdTesting
import Logging
import Rewards
import Sandboxing
import Synchronization

/// A backend without a sandbox: programs are keywords.
/// - `ECHO`: prints its stdin; `WRONG`: prints "wrong"; `FAULT`: the sandbox fails (thrown);
///   `SLOW`: like ECHO after 30 ms; `GATED`: like ECHO once `gate` opens; `print(1)`: prints "1".
/// It counts runs per stdin so tests can check that nothing ran twice.
final class StubBackend: ExecutionBackend, SubmissionExecutor, @unchecked Sendable {
    let runs = Mutex<[String: Int]>([:])
    let gate = Gate()
    var submissionExecutor: any SubmissionExecutor { self }

    func output(code: String, stdin: String) throws(SandboxError) -> String {
        if code.contains("FAULT") { throw SandboxError(.hostSetupFailed, "stub: the sandbox broke") }
        if code.contains("SLOW") { usleep(30_000) }
        if code.contains("GATED") { gate.pass() }
        runs.withLock { $0[stdin, default: 0] += 1 }
        if code.contains("WRONG") { return "wrong\n" }
        if code.contains("print(1)") { return "1\n" }
        return stdin
    }

    static func result(_ out: String, verdict: Verdict = .ok) -> RunResult {
        RunResult(verdict: verdict, exitCode: verdict == .ok ? 0 : 1, signal: nil, timeLimitClock: nil, cpuMilliseconds: 1,
                  wallMilliseconds: 1, memoryBytes: 1 << 20, stdout: Array(out.utf8), stderr: [], outputTruncated: false)
    }

    func runCode(_ request: CodeRun) throws(SandboxError) -> CodeRunOutcome {
        let out = try output(code: request.code, stdin: String(decoding: request.stdin, as: UTF8.self))
        return CodeRunOutcome(compile: request.language == .cpp ? Self.result("") : nil, compileFailed: false, run: Self.result(out))
    }

    func run(_ submission: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
             judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution] {
        var out: [TestExecution] = []
        for (i, t) in tests.enumerated() {
            guard case .stdio(let input) = t else { continue }
            let e = TestExecution(outcome: .exited(stdout: try output(code: submission.code, stdin: input)), cpuMilliseconds: 1, wallMilliseconds: 1)
            out.append(e)
            if !judge(i, e) && stopAtFirstFailure { break }
        }
        return out
    }

    var totalRuns: Int { runs.withLock { $0.values.reduce(0, +) } }
}

/// Where `GATED` runs wait until the test opens it: a test can hold a run in flight, do what it
/// tests (stop the server), and only then let it finish, whatever the machine's speed.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var waiting = 0

    /// Blocks the calling worker thread until the gate is open.
    func pass() {
        condition.lock()
        waiting += 1
        while !isOpen { condition.wait() }
        waiting -= 1
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    private var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }

    /// Returns once `count` runs wait at the gate (60 s at most, then false).
    func waitForWaiters(_ count: Int) async throws -> Bool {
        try await eventually { self.waitingCount >= count }
    }
}

/// A log handler that keeps every message, so a test can wait for the server to say it has
/// reached a state (the job runner stopping) instead of guessing how long that takes.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.withLock { $0.append(message.description) }
    }

    var logger: Logger { Logger(label: "capture") { _ in self } }

    /// Returns once a message containing `text` was logged (60 s at most, then false).
    func waitFor(_ text: String) async throws -> Bool {
        try await eventually { self.lines.withLock { $0.contains { $0.contains(text) } } }
    }
}

/// Polls `condition` every 20 ms until it holds (true) or 60 s have passed (false): for states
/// the server reaches on its own time, however slow the machine is today.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<3000 {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}

enum TestEnv {
    static let isRoot = geteuid() == 0

    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// One real sandbox backend for the test process (root only).
    static let sandboxBackend: SandboxBackend? = {
        guard isRoot else { return nil }
        do {
            let sandbox = try Sandbox()
            return try SandboxBackend(sandbox: sandbox, catalog: try ProfileCatalog(directory: repoRoot + "/sandbox-profiles"))
        } catch {
            print("sandbox unavailable: \(error)")
            return nil
        }
    }()

    static func config(_ backend: any ExecutionBackend = StubBackend(), _ edit: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var c = ServerConfiguration(backend: backend)
        c.workers = 2
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        c.logger = logger
        c.dataSets = DataSets(problems: [
            Problem(id: "echo", source: "native", tests: [.stdio("1\n", "1\n"), .stdio("2\n", "2\n")]),
        ])
        edit(&c)
        return c
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("assay-serve-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
    }
}

extension TestResponse {
    var json: JSONValue {
        get throws { try JSONValue(parsing: String(buffer: body)) }
    }
    var text: String { String(buffer: body) }
}

func body(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

extension TestClientProtocol {
    @discardableResult
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        h[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

/// `{"items": [...]}` with one echo item per stdin.
func echoItems(_ n: Int, code: String = "ECHO", tag: String = "") -> String {
    let items = (0..<n).map { i in
        #"{"id": \#(i), "problem": {"tests": [{"stdin": "\#(tag)\#(i)\n", "stdout": "\#(tag)\#(i)\n"}]}, "code": "\#(code)"}"#
    }
    return #"{"items": [\#(items.joined(separator: ", "))]}"#
}
