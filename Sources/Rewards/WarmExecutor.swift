import Sandboxing

/// The fast path for Python: one box per submission whose warm interpreter has imported the
/// preamble (numpy included) once, and a fresh process forked per test from that clean state
/// (`Sandbox.runWarmPython`). Each test runs the same driver program, with the same request on
/// stdin and the same out-of-band result record (collected from /work after the test, then
/// checked for this run's nonce on the host) as `SandboxExecutor`; only the process start-up is
/// shared. No two submissions share a warm interpreter, and nothing a test leaves behind
/// (processes, files, IPC objects) reaches the next test.
///
/// C++ submissions are delegated to `SandboxExecutor` (compiled once, the binary reused).
public struct WarmPythonExecutor: SubmissionExecutor {
    public let cold: SandboxExecutor

    public init(sandbox: Sandbox, catalog: ProfileCatalog) throws(SandboxError) {
        cold = try SandboxExecutor(sandbox: sandbox, catalog: catalog)
    }

    /// The preamble's imports, each on its own so a missing module (pandas) is skipped, as the
    /// driver does. They only warm `sys.modules`; the driver still builds each test's namespace.
    /// A module that is not installed is remembered as `None` in `sys.modules`: importing it
    /// again still raises ImportError, but without searching the whole path in every test.
    static let warmImports: String = PythonHarness.preamble.map { line in
        "try:\n    \(line)\nexcept ModuleNotFoundError as e:\n    __import__('sys').modules.setdefault(e.name, None)\nexcept Exception:\n    pass\n"
    }.joined()

    public func run(_ submission: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
                    judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution] {
        guard submission.language == .python, !tests.isEmpty else {
            return try cold.run(submission, tests: tests, stopAtFirstFailure: stopAtFirstFailure, judge: judge)
        }
        // One driver program per test kind; a problem's tests are all of one kind in practice,
        // so group runs of the same kind into one warm box each.
        var out: [TestExecution] = []
        var start = 0
        while start < tests.count {
            let mode = Self.mode(tests[start])
            var end = start
            while end < tests.count, Self.mode(tests[end]) == mode { end += 1 }
            let group = Array(tests[start..<end])
            let executions = try runGroup(submission, mode: mode, tests: group, stopAtFirstFailure: stopAtFirstFailure)
            for (k, e) in executions.enumerated() {
                out.append(e)
                if !judge(start + k, e) && stopAtFirstFailure { return out }
            }
            if executions.count < group.count { return out }  // the box stopped early
            start = end
        }
        return out
    }

    static func mode(_ test: ExecutableTest) -> PythonHarness.Mode {
        switch test {
        case .stdio: .stdio
        case .call: .call
        case .script: .script
        }
    }

    private func runGroup(_ s: Submission, mode: PythonHarness.Mode, tests: [ExecutableTest],
                          stopAtFirstFailure: Bool) throws(SandboxError) -> [TestExecution] {
        let program = PythonHarness.program(mode: mode, solution: s.code, setup: s.setupCode, entry: s.entryPoint,
                                            callCheck: mode == .script ? s.callCheck : false)
        var nonces: [String] = []
        let warmTests: [WarmTest] = tests.map { test in
            switch test {
            case .stdio(let input):
                nonces.append("")
                return WarmTest(stdin: Array(input.utf8))
            case .call(let function, let arguments):
                let nonce = SandboxExecutor.makeNonce()
                nonces.append(nonce)
                return WarmTest(stdin: PythonHarness.callRequest(nonce: nonce, calls: [(function, arguments)], perCallSeconds: s.timeLimitSeconds))
            case .script(let script):
                let nonce = SandboxExecutor.makeNonce()
                nonces.append(nonce)
                return WarmTest(stdin: PythonHarness.scriptRequest(nonce: nonce, script: script))
            }
        }
        var limits = cold.limits(cold.python, cpu: s.timeLimitSeconds, memoryMiB: s.memoryLimitMiB)
        if mode == .call { limits.cpuTimeSeconds += 1 }  // the driver's own per-call clock fires first
        // Returned values can be large (HumanEval+ has multi-megabyte strings and integers), as
        // in SandboxExecutor: the record may use up to a quarter of the memory limit.
        let recordCap = max(64, s.memoryLimitMiB / 4) << 20
        if mode != .stdio {
            limits.maxFileSizeBytes = recordCap
            limits.workDirBytes = recordCap + (16 << 20)
        }
        let results = try cold.sandbox.runWarmPython(
            source: program, preamble: Self.warmImports, tests: warmTests, limits: limits, profile: cold.python,
            stopAtFirstFailure: stopAtFirstFailure, collect: mode == .stdio ? nil : PythonHarness.resultFile,
            collectLimitBytes: recordCap)
        return results.enumerated().map { i, r in
            Self.execution(r, mode: mode, nonce: nonces[i], perCallSeconds: s.timeLimitSeconds)
        }
    }

    static func execution(_ r: WarmTestResult, mode: PythonHarness.Mode, nonce: String, perCallSeconds: Double) -> TestExecution {
        let run = r.run
        guard run.verdict == .ok else { return SandboxExecutor.failure(run) }
        func timed(_ outcome: TestExecution.Outcome) -> TestExecution {
            TestExecution(outcome: outcome, cpuMilliseconds: run.cpuMilliseconds, wallMilliseconds: run.wallMilliseconds,
                          memoryBytes: run.memoryBytes)
        }
        switch mode {
        case .stdio:
            return timed(.exited(stdout: run.stdoutText))
        case .script:
            switch SandboxExecutor.readRecord(r.collected, nonce: nonce) {
            case .failure(let why): return timed(.failed(.runtimeError, why))
            case .success(let rec):
                if rec["passed"]?.boolValue == true { return timed(.scriptPassed) }
                if let loadError = rec["load_error"]?.stringValue { return timed(.raised(loadError)) }
                let kind = rec["failed"]?.stringValue ?? "exception"
                return timed(.scriptFailed(assertion: kind == "assert", message: rec["message"]?.stringValue ?? kind))
            }
        case .call:
            switch SandboxExecutor.readRecord(r.collected, nonce: nonce) {
            case .failure(let why): return timed(.failed(.runtimeError, why))
            case .success(let rec):
                if let loadError = rec["load_error"]?.stringValue { return timed(.raised(loadError)) }
                guard let first = rec["results"]?.arrayValue?.first else { return timed(.failed(.runtimeError, "no call result was recorded")) }
                if first["tle"] != nil { return timed(.failed(.timeLimitExceeded, "the call ran past its \(perCallSeconds) s CPU limit")) }
                if let exc = first["exc"]?.stringValue {
                    return timed(first["exit"]?.boolValue == true ? .failed(.runtimeError, "the solution exited during the call (SystemExit)") : .raised(exc))
                }
                if let v = first["v"] { return timed(.returned(v)) }
                return timed(.failed(.runtimeError, "malformed result record"))
            }
        }
    }
}
