import Sandboxing

/// The fast path for Python: one box per submission, forked from the slot's clean zygote (an
/// interpreter that has imported the preamble once and never runs submitted code; numpy only
/// for a submission that names it: `warmImports(naming:)`), and a fresh process forked per test
/// from that clean state (`Sandbox.runWarmPython`). Each test runs the same driver program, with the same request on
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

    /// Grades Python warm and everything else through `cold`, on `cold`'s sandbox.
    public init(cold: SandboxExecutor) {
        self.cold = cold
    }

    /// Starts the zygotes `count` concurrent submissions will use (the usual preamble), so the
    /// first submissions do not pay for an interpreter start.
    public func prewarm(count: Int) throws(SandboxError) {
        try cold.sandbox.prewarmPythonZygotes(count: count, profile: cold.python, preamble: zygoteImports, prelude: zygotePrelude)
    }

    /// What the zygotes of most submissions import (the preamble, numpy deferred).
    public var zygoteImports: String { Self.warmImports(naming: []) }

    /// What the zygotes compile once: the driver every test runs (`PythonHarness.driverPrelude`).
    public var zygotePrelude: String { PythonHarness.driverPrelude }

    /// Heavy preamble modules, imported up front only for a submission that names them: numpy
    /// costs ~65 ms to import and makes every fork and every module snapshot dearer. For the
    /// others the module is deferred (see `deferSource`): `np` is still bound in every test.
    static let deferrable: [(line: String, module: String, names: Set<Substring>)] = [
        ("import numpy as np", "numpy", ["np", "numpy"]),
        ("import pandas as pd", "pandas", ["pd", "pandas"]),
    ]

    /// Puts a module object in `sys.modules` whose first attribute read (a use of `np.x`, a
    /// `from numpy import`, a submodule import, which asks for `__path__`) executes the real
    /// module into that same object, as a normal import would have; `import numpy as np`
    /// itself only reads `__spec__`, which is there. Until then the driver leaves it alone
    /// (`__assay_deferred__`).
    static let deferSource = """
        def __assay_defer(name):
            import importlib.util, sys
            spec = importlib.util.find_spec(name)
            if spec is None:
                sys.modules.setdefault(name, None)
                return
            module = importlib.util.module_from_spec(spec)
            path = module.__dict__.pop("__path__", None)
            def load(attr):
                d = module.__dict__
                if d.pop("__assay_deferred__", None):
                    d.pop("__getattr__", None)
                    if path is not None:
                        d["__path__"] = path
                    spec.loader.exec_module(module)
                return getattr(module, attr)
            module.__getattr__ = load
            module.__assay_deferred__ = True
            sys.modules[name] = module

        """

    /// The preamble's imports for one submission, each on its own so a missing module (pandas)
    /// is skipped, as the driver does. They only warm `sys.modules`; the driver still builds
    /// each test's namespace. A module that is not installed is remembered as `None` in
    /// `sys.modules`: importing it again still raises ImportError, without a path search per test.
    /// - Parameter texts: everything the tests run (solution, setup, check scripts); a heavy
    ///   module named there as a word is imported up front, otherwise deferred.
    public static func warmImports(naming texts: [String]) -> String {
        let words = identifierWords(texts)
        var deferred = "", eager = ""
        for line in PythonHarness.preamble {
            if let heavy = deferrable.first(where: { $0.line == line }), words.isDisjoint(with: heavy.names) {
                deferred += "__assay_defer(\(JSONValue.string(heavy.module).jsonText))\n"
            } else {
                eager += "try:\n    \(line)\nexcept ModuleNotFoundError as e:\n    __import__('sys').modules.setdefault(e.name, None)\nexcept Exception:\n    pass\n"
            }
        }
        return deferred.isEmpty ? eager : deferSource + deferred + eager
    }

    /// The Python identifier-like words of `texts` (enough to tell whether `np` is named).
    static func identifierWords(_ texts: [String]) -> Set<Substring> {
        var words = Set<Substring>()
        for text in texts {
            for word in text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
                words.insert(word)
            }
        }
        return words
    }

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
        // The driver itself is compiled once in the zygote; each test runs it, then this call.
        let call = PythonHarness.driverCall(mode: mode, solution: s.code, setup: s.setupCode, entry: s.entryPoint,
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
        var named = [s.code, s.setupCode ?? ""]
        for case .script(let script) in tests { named.append(script) }
        let results = try cold.sandbox.runWarmPython(
            // The driver binds the preamble's names in the solution's namespace itself; the
            // zygote has imported its modules (numpy deferred unless named), so the tests' own
            // namespace needs no preamble.
            source: call, preamble: "", prelude: zygotePrelude, zygoteImports: Self.warmImports(naming: named),
            tests: warmTests, limits: limits, profile: cold.python, stopAtFirstFailure: stopAtFirstFailure, collect: mode == .stdio ? nil : PythonHarness.resultFile,
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
