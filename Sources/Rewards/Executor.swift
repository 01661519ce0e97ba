import Sandboxing

/// What the executor runs: the solution with what it needs around it.
public struct Submission: Sendable {
    /// The full solution text (already prefixed where the problem says so).
    public var code: String
    public var language: Language
    /// Python run before the solution in its namespace (e.g. the LeetCode prelude).
    public var setupCode: String?
    /// Default function for call tests; what a check script's `check` is called with.
    public var entryPoint: String?
    /// Script tests end with `check(<entryPoint>)` made by the driver (HumanEval, LeetCode).
    public var callCheck: Bool
    /// CPU seconds per test.
    public var timeLimitSeconds: Double
    public var memoryLimitMiB: Int

    public init(code: String, language: Language, setupCode: String? = nil, entryPoint: String? = nil, callCheck: Bool = false,
                timeLimitSeconds: Double = 6, memoryLimitMiB: Int = 1024) {
        self.code = code
        self.language = language
        self.setupCode = setupCode
        self.entryPoint = entryPoint
        self.callCheck = callCheck
        self.timeLimitSeconds = timeLimitSeconds
        self.memoryLimitMiB = memoryLimitMiB
    }
}

/// A test as the executor sees it: no expected value (that stays with the grader, on the host).
public enum ExecutableTest: Sendable, Hashable {
    case stdio(input: String)
    case call(function: String?, arguments: [JSONValue])
    case script(String)
}

/// What running one test produced, before any comparison.
public struct TestExecution: Sendable {
    public enum Outcome: Sendable {
        /// A stdio run that exited 0: its stdout.
        case exited(stdout: String)
        /// A call returned this value (the driver's encoding, see `PythonHarness`).
        case returned(JSONValue)
        /// A check script ran to its end.
        case scriptPassed
        /// A check script's assertion failed (`assertion`) or it raised.
        case scriptFailed(assertion: Bool, message: String)
        /// The call or the solution raised (or exited) instead of returning.
        case raised(String)
        /// The run ended with a non-OK sandbox verdict (TLE, MLE, RE, CE, ...), or left no valid
        /// result record (RE).
        case failed(Verdict, String)
    }
    public var outcome: Outcome
    public var cpuMilliseconds: Double
    public var wallMilliseconds: Double
    public var memoryBytes: Int

    public init(outcome: Outcome, cpuMilliseconds: Double = 0, wallMilliseconds: Double = 0, memoryBytes: Int = 0) {
        self.outcome = outcome
        self.cpuMilliseconds = cpuMilliseconds
        self.wallMilliseconds = wallMilliseconds
        self.memoryBytes = memoryBytes
    }
}

/// The seam between grading and running. The grader owns the tests' expected values and the
/// comparison; an executor only runs code and reports what happened.
///
/// Contract:
/// - `run` returns one `TestExecution` per test, in order, for a prefix of `tests`: after each
///   execution it calls `judge(index, execution)`, which says whether the test passed; when it
///   returns false and `stopAtFirstFailure` is set, the executor stops (the prefix ends there).
///   An executor may run several call tests in one process and judge them afterwards.
/// - Results must travel out of band (stdout captured by the sandbox, or a result file read back
///   by the host with a per-run nonce), never parsed from text the program chooses to print for
///   call and script tests.
/// - A failure of the sandbox itself is thrown (`SandboxError`); it must never be reported as a
///   failing test.
/// - Implementations: `SandboxExecutor` (a cold process per run). A warm-interpreter executor
///   (one forked child per test from a per-submission parent with the preamble imported) fits
///   behind the same protocol.
public protocol SubmissionExecutor: Sendable {
    func run(_ submission: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
             judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution]
}

/// Runs each test in a fresh sandbox (`Sandbox.run`): C++ is compiled once per submission
/// (`prepare`, cached by exact source) and the binary reused for every test; Python runs the
/// driver (`PythonHarness`) once per stdio or script test, and once per batch of consecutive call
/// tests (the calls of a batch share one process, as in LiveCodeBench and EvalPlus).
public struct SandboxExecutor: SubmissionExecutor {
    public let sandbox: Sandbox
    public let python: SandboxProfile
    public let cpp: SandboxProfile
    /// Most CPU seconds one batch of calls may use in all (each call also has its own limit).
    public var batchCPUCapSeconds: Double
    /// Most calls per batch.
    public var batchSize: Int

    public init(sandbox: Sandbox, catalog: ProfileCatalog, batchCPUCapSeconds: Double = 60, batchSize: Int = 25) throws(SandboxError) {
        self.sandbox = sandbox
        self.python = try catalog.profile(named: "python3")
        self.cpp = try catalog.profile(named: "cpp")
        self.batchCPUCapSeconds = batchCPUCapSeconds
        self.batchSize = batchSize
    }

    func limits(_ profile: SandboxProfile, cpu: Double, memoryMiB: Int) -> Limits {
        var l = profile.limits
        l.cpuTimeSeconds = cpu
        l.wallTimeSeconds = cpu * 2 + 1
        l.memoryBytes = memoryMiB << 20
        return l
    }

    static func failure(_ r: RunResult) -> TestExecution {
        var message: String
        switch r.verdict {
        case .compileError: message = String((r.compileOutput ?? r.stderrText).suffix(2000))
        case .timeLimitExceeded: message = "time limit exceeded (\(r.timeLimitClock?.rawValue ?? "cpu") clock)"
        case .memoryLimitExceeded: message = "memory limit exceeded"
        case .outputLimitExceeded: message = "output limit exceeded"
        case .disallowedSyscall: message = "killed by the seccomp filter"
        default:
            let err = r.stderrText.trimmingTrailingWhitespace
            message = err.isEmpty ? (r.exitCode.map { "exit code \($0)" } ?? "signal \(r.signal ?? 0)") : String(err.suffix(2000))
        }
        return TestExecution(outcome: .failed(r.verdict, message), cpuMilliseconds: r.cpuMilliseconds,
                             wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
    }

    public func run(_ submission: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
                    judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution] {
        var out: [TestExecution] = []
        switch submission.language {
        case .cpp:
            let program = try sandbox.prepare(source: submission.code, profile: cpp)
            if let ce = program.compileFailure {
                let e = Self.failure(ce)
                _ = judge(0, e)
                return [e]
            }
            let lim = limits(cpp, cpu: submission.timeLimitSeconds, memoryMiB: submission.memoryLimitMiB)
            for (i, t) in tests.enumerated() {
                guard case .stdio(let input) = t else {
                    let e = TestExecution(outcome: .failed(.runtimeError, "C++ solutions can only run stdin/stdout tests"))
                    out.append(e)
                    if !judge(i, e) && stopAtFirstFailure { return out }
                    continue
                }
                let r = try sandbox.run(program, stdin: Array(input.utf8), limits: lim)
                let e = r.verdict == .ok
                    ? TestExecution(outcome: .exited(stdout: r.stdoutText), cpuMilliseconds: r.cpuMilliseconds,
                                    wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
                    : Self.failure(r)
                out.append(e)
                if !judge(i, e) && stopAtFirstFailure { return out }
            }
            return out
        case .python:
            return try runPython(submission, tests: tests, stopAtFirstFailure: stopAtFirstFailure, judge: judge)
        }
    }

    func runPython(_ s: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
                   judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution] {
        var out: [TestExecution] = []
        let lim = limits(python, cpu: s.timeLimitSeconds, memoryMiB: s.memoryLimitMiB)
        var stdioProgram: PreparedProgram?
        var callProgram: PreparedProgram?
        var scriptProgram: PreparedProgram?
        var i = 0
        while i < tests.count {
            switch tests[i] {
            case .stdio(let input):
                if stdioProgram == nil {
                    stdioProgram = try sandbox.prepare(source: PythonHarness.program(mode: .stdio, solution: s.code, setup: s.setupCode, entry: s.entryPoint, callCheck: false), profile: python)
                }
                let r = try sandbox.run(stdioProgram!, stdin: Array(input.utf8), limits: lim)
                let e = r.verdict == .ok
                    ? TestExecution(outcome: .exited(stdout: r.stdoutText), cpuMilliseconds: r.cpuMilliseconds,
                                    wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
                    : Self.failure(r)
                out.append(e)
                if !judge(i, e) && stopAtFirstFailure { return out }
                i += 1
            case .script(let script):
                if scriptProgram == nil {
                    scriptProgram = try sandbox.prepare(source: PythonHarness.program(mode: .script, solution: s.code, setup: s.setupCode, entry: s.entryPoint, callCheck: s.callCheck), profile: python)
                }
                let nonce = Self.makeNonce()
                let (r, file) = try sandbox.run(scriptProgram!, stdin: PythonHarness.scriptRequest(nonce: nonce, script: script),
                                                limits: lim, collect: PythonHarness.resultFile)
                var e: TestExecution
                if r.verdict != .ok {
                    e = Self.failure(r)
                } else {
                    let outcome: TestExecution.Outcome
                    switch Self.readRecord(file, nonce: nonce) {
                    case .failure(let why): outcome = .failed(.runtimeError, why)
                    case .success(let rec):
                        if rec["passed"]?.boolValue == true {
                            outcome = .scriptPassed
                        } else if let loadError = rec["load_error"]?.stringValue {
                            outcome = .raised(loadError)
                        } else {
                            let kind = rec["failed"]?.stringValue ?? "exception"
                            outcome = .scriptFailed(assertion: kind == "assert", message: rec["message"]?.stringValue ?? kind)
                        }
                    }
                    e = TestExecution(outcome: outcome, cpuMilliseconds: r.cpuMilliseconds, wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
                }
                out.append(e)
                if !judge(i, e) && stopAtFirstFailure { return out }
                i += 1
            case .call:
                var j = i
                var calls: [(function: String?, arguments: [JSONValue])] = []
                while j < tests.count, calls.count < batchSize, case .call(let f, let a) = tests[j] {
                    calls.append((f, a))
                    j += 1
                }
                if callProgram == nil {
                    callProgram = try sandbox.prepare(source: PythonHarness.program(mode: .call, solution: s.code, setup: s.setupCode, entry: s.entryPoint, callCheck: false), profile: python)
                }
                let nonce = Self.makeNonce()
                let cpu = min(s.timeLimitSeconds * Double(calls.count), max(batchCPUCapSeconds, s.timeLimitSeconds)) + 1
                var batchLimits = limits(python, cpu: cpu, memoryMiB: s.memoryLimitMiB)
                batchLimits.wallTimeSeconds = cpu * 2 + 2
                // Returned values can be large (HumanEval+ has multi-megabyte strings and integers):
                // the record may use up to a quarter of the memory limit (the tmpfs counts as memory).
                let recordCap = max(64, s.memoryLimitMiB / 4) << 20
                batchLimits.maxFileSizeBytes = recordCap
                batchLimits.workDirBytes = recordCap + (16 << 20)
                let (r, file) = try sandbox.run(callProgram!, stdin: PythonHarness.callRequest(nonce: nonce, calls: calls, perCallSeconds: s.timeLimitSeconds),
                                                limits: batchLimits, collect: PythonHarness.resultFile, collectLimitBytes: recordCap)
                if r.verdict != .ok {
                    if calls.count > 1 {
                        // The process as a whole failed (killed for memory or time, not one call's
                        // own timeout): run these calls one per process to find the failing test.
                        var single = self
                        single.batchSize = 1
                        let rest = try single.runPython(s, tests: Array(tests[i..<j]), stopAtFirstFailure: stopAtFirstFailure) { k, e in judge(i + k, e) }
                        out += rest
                        if rest.count < j - i { return out }
                        if let last = rest.last, stopAtFirstFailure, !Self.isSuccess(last) { return out }
                        i = j
                        continue
                    }
                    let e = Self.failure(r)
                    out.append(e)
                    _ = judge(i, e)
                    return out
                }
                let records: [JSONValue]
                switch Self.readRecord(file, nonce: nonce) {
                case .failure(let why):
                    let e = TestExecution(outcome: .failed(.runtimeError, why), cpuMilliseconds: r.cpuMilliseconds, wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
                    out.append(e)
                    _ = judge(i, e)
                    return out
                case .success(let rec):
                    if let loadError = rec["load_error"]?.stringValue {
                        let e = TestExecution(outcome: .raised(loadError), cpuMilliseconds: r.cpuMilliseconds, wallMilliseconds: r.wallMilliseconds, memoryBytes: r.memoryBytes)
                        out.append(e)
                        _ = judge(i, e)
                        return out
                    }
                    records = rec["results"]?.arrayValue ?? []
                }
                for (k, rec) in records.enumerated() where k < calls.count {
                    let cpuMs = rec["cpu"]?.doubleValue ?? 0, wallMs = rec["wall"]?.doubleValue ?? 0
                    let outcome: TestExecution.Outcome
                    if rec["tle"] != nil {
                        outcome = .failed(.timeLimitExceeded, "the call ran past its \(s.timeLimitSeconds) s CPU limit")
                    } else if let exc = rec["exc"]?.stringValue {
                        outcome = rec["exit"]?.boolValue == true ? .failed(.runtimeError, "the solution exited during the call (SystemExit)") : .raised(exc)
                    } else if let v = rec["v"] {
                        outcome = .returned(v)
                    } else {
                        outcome = .failed(.runtimeError, "malformed result record")
                    }
                    let e = TestExecution(outcome: outcome, cpuMilliseconds: cpuMs, wallMilliseconds: wallMs, memoryBytes: r.memoryBytes)
                    out.append(e)
                    if !judge(i + k, e) && stopAtFirstFailure { return out }
                }
                if records.count < calls.count {
                    // The driver stopped early (an exception or a timeout): the batch ends here.
                    if records.isEmpty {
                        let e = TestExecution(outcome: .failed(.runtimeError, "no call result was recorded"))
                        out.append(e)
                        _ = judge(i, e)
                    }
                    return out
                }
                i = j
            }
        }
        return out
    }

    static func isSuccess(_ e: TestExecution) -> Bool {
        if case .returned = e.outcome { return true }
        return false
    }

    enum RecordResult { case success(JSONValue), failure(String) }

    static func readRecord(_ file: [UInt8]?, nonce: String) -> RecordResult {
        guard let file else { return .failure("the program ended without writing its result record (it exited before the checks ran)") }
        guard let rec = try? JSONValue(parsing: file[...]) else { return .failure("the result record is not valid JSON (it was tampered with)") }
        guard rec["nonce"]?.stringValue == nonce else { return .failure("the result record does not carry this run's nonce (it was forged)") }
        return .success(rec)
    }

    static func makeNonce() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let s = String(g.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }
}

extension String {
    var trimmingTrailingWhitespace: Substring {
        var s = Substring(self)
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}
