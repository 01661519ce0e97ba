import Sandboxing

/// The verdict of one graded test.
public enum TestVerdict: String, Sendable, Codable, CaseIterable {
    case ok = "OK", wrongAnswer = "WA", timeLimitExceeded = "TLE", memoryLimitExceeded = "MLE"
    case outputLimitExceeded = "OLE", runtimeError = "RE", disallowedSyscall = "SYS", compileError = "CE"

    init(_ v: Verdict) {
        switch v {
        case .ok: self = .ok
        case .runtimeError: self = .runtimeError
        case .timeLimitExceeded: self = .timeLimitExceeded
        case .memoryLimitExceeded: self = .memoryLimitExceeded
        case .outputLimitExceeded: self = .outputLimitExceeded
        case .disallowedSyscall: self = .disallowedSyscall
        case .compileError: self = .compileError
        }
    }

    /// The result's `reason` when this verdict ends grading.
    public var reason: String {
        switch self {
        case .ok: "passed"
        case .wrongAnswer: "wrong_answer"
        case .timeLimitExceeded: "time_limit_exceeded"
        case .memoryLimitExceeded: "memory_limit_exceeded"
        case .outputLimitExceeded: "output_limit_exceeded"
        case .runtimeError: "runtime_error"
        case .disallowedSyscall: "disallowed_syscall"
        case .compileError: "compile_error"
        }
    }
}

public struct TestReport: Sendable {
    /// Index of the test in the problem's test list.
    public var index: Int
    public var name: String?
    public var verdict: TestVerdict
    public var cpuMilliseconds: Double
    public var wallMilliseconds: Double
    public var memoryBytes: Int
    /// Why it failed (empty when OK).
    public var detail: String
}

public struct GradeResult: Sendable {
    /// 1 or 0; nil when grading failed (`error`): never count such an item as reward 0.
    public var reward: Int?
    /// `passed`, `no_code`, `wrong_answer`, `runtime_error`, `time_limit_exceeded`,
    /// `memory_limit_exceeded`, `output_limit_exceeded`, `disallowed_syscall`, `compile_error`,
    /// `unsupported_language`, or `error` (sandbox failure or a problem that cannot be graded).
    public var reason: String
    public var detail: String
    public var language: Language?
    /// How many tests were picked (after sampling).
    public var testsSelected: Int
    public var tests: [TestReport]
    public var error: String?

    public static func failure(_ error: String) -> GradeResult {
        GradeResult(reward: nil, reason: "error", detail: error, language: nil, testsSelected: 0, tests: [], error: error)
    }
}

public struct GraderOptions: Sendable {
    /// At most this many tests per problem (DeepCoder: 15); 0 or less: all.
    public var maxTests: Int = 15
    /// Overrides every problem's own cap too (`--max-tests`).
    public var maxTestsOverride: Int?
    /// Overrides every problem's stdio checker.
    public var checker: Checker?
    /// Used when a problem declares none.
    public var defaultChecker: Checker = .lcb
    public var defaultTimeLimitSeconds: Double = 6
    /// Overrides every problem's time limit.
    public var timeLimitSeconds: Double?
    public var defaultMemoryLimitMiB: Int = 1024
    public var stopAtFirstFailure = true
    public init() {}
}

/// Grades responses: extraction, sampling, running (through a `SubmissionExecutor`) and the
/// host-side comparison. Thread-safe; call it from as many threads as the executor can serve.
public struct Grader: Sendable {
    public let executor: any SubmissionExecutor
    public var options: GraderOptions

    public init(executor: any SubmissionExecutor, options: GraderOptions = GraderOptions()) {
        self.executor = executor
        self.options = options
    }

    /// Grades a model response: the last closed fenced block is the solution.
    public func grade(problem: Problem, response: String) -> GradeResult {
        guard let code = CodeExtractor.extract(response) else {
            return GradeResult(reward: 0, reason: "no_code", detail: "the response has no closed fenced code block", language: nil,
                               testsSelected: 0, tests: [], error: nil)
        }
        return grade(problem: problem, code: code.code, language: code.language)
    }

    /// The text actually run: HumanEval-style problems accept a bare function body and put the
    /// prompt (`solutionPrefix`) in front when the code does not define the entry point.
    public static func solutionText(problem: Problem, code: String) -> String {
        guard let prefix = problem.solutionPrefix, let entry = problem.entryPoint else { return code }
        let name = entry.split(separator: ".").last.map(String.init) ?? entry
        if code.contains("def \(name)") || code.contains("class Solution") { return code }
        return prefix + code
    }

    public func grade(problem: Problem, code: String, language: Language) -> GradeResult {
        if problem.tests.isEmpty {
            return .failure("problem \(problem.id) has no tests")
        }
        let picked = TestSampler.sampleIndices(problem.tests, maxTests: options.maxTestsOverride ?? problem.maxTests ?? options.maxTests)
        let tests = picked.map { problem.tests[$0] }
        if language == .cpp, tests.contains(where: { if case .stdio = $0.kind { return false } else { return true } }) {
            return GradeResult(reward: 0, reason: "unsupported_language", detail: "this problem has function or script tests; C++ answers are graded on stdin/stdout problems only",
                               language: language, testsSelected: tests.count, tests: [], error: nil)
        }
        var executable: [ExecutableTest] = []
        for t in tests {
            switch t.kind {
            case .stdio(let input, _): executable.append(.stdio(input: input))
            case .call(let f, let args, let expected):
                guard expected != nil else {
                    return .failure("problem \(problem.id): expected values of its call tests were not computed (run the reference solution first)")
                }
                executable.append(.call(function: f, arguments: args))
            case .script(let s): executable.append(.script(s))
            }
        }
        let checker = options.checker ?? problem.checker ?? options.defaultChecker
        let submission = Submission(
            code: language == .python ? Grader.solutionText(problem: problem, code: code) : code,
            language: language, setupCode: problem.setupCode, entryPoint: problem.entryPoint,
            callCheck: problem.scriptCallsCheck,
            timeLimitSeconds: options.timeLimitSeconds ?? problem.timeLimitSeconds ?? options.defaultTimeLimitSeconds,
            memoryLimitMiB: problem.memoryLimitMiB ?? options.defaultMemoryLimitMiB)

        var reports: [TestReport] = []
        let comparison = problem.callComparison
        let judge = { (k: Int, e: TestExecution) -> Bool in
            let (verdict, detail) = Grader.judge(tests[k], e, checker: checker, comparison: comparison)
            reports.append(TestReport(index: picked[k], name: tests[k].name, verdict: verdict, cpuMilliseconds: e.cpuMilliseconds,
                                      wallMilliseconds: e.wallMilliseconds, memoryBytes: e.memoryBytes, detail: detail))
            return verdict == .ok
        }
        do {
            _ = try executor.run(submission, tests: executable, stopAtFirstFailure: options.stopAtFirstFailure, judge: judge)
        } catch {
            return .failure(error.description)
        }
        let passed = reports.count == tests.count && reports.allSatisfy { $0.verdict == .ok }
        let firstBad = reports.first { $0.verdict != .ok }
        return GradeResult(
            reward: passed ? 1 : 0,
            reason: passed ? "passed" : (firstBad?.verdict.reason ?? "runtime_error"),
            detail: passed ? "" : (firstBad.map { "test \($0.index): \($0.detail)" } ?? "not every test ran"),
            language: language, testsSelected: tests.count, tests: reports, error: nil)
    }

    /// Turns an execution into a verdict, comparing on the host.
    static func judge(_ test: TestCase, _ e: TestExecution, checker: Checker, comparison: CallComparison) -> (TestVerdict, String) {
        switch e.outcome {
        case .failed(let v, let m): return (TestVerdict(v), m)
        case .raised(let m): return (.runtimeError, m)
        case .scriptPassed:
            if case .script = test.kind { return (.ok, "") }
            return (.runtimeError, "unexpected script result")
        case .scriptFailed(let assertion, let m): return (assertion ? .wrongAnswer : .runtimeError, m)
        case .exited(let stdout):
            guard case .stdio(_, let expected) = test.kind else { return (.runtimeError, "unexpected stdout result") }
            if checker.accepts(stdout, expected) { return (.ok, "") }
            return (.wrongAnswer, "expected \(Grader.clip(expected)), got \(Grader.clip(stdout)) (checker \(checker.name))")
        case .returned(let value):
            guard case .call(_, _, let expected?) = test.kind else { return (.runtimeError, "unexpected call result") }
            if comparison.matches(value, expected) { return (.ok, "") }
            return (.wrongAnswer, "expected \(Grader.clip(expected.jsonText)), got \(Grader.clip(value.jsonText))")
        }
    }

    static func clip(_ s: String, _ n: Int = 200) -> String {
        let t = s.count > n ? String(s.prefix(n)) + "…" : s
        return JSONValue.string(t).jsonText
    }
}

// MARK: - Expected values from a reference solution

extension Grader {
    /// Fills in call tests without an expected value by running the problem's first reference
    /// solution on their arguments in the sandbox (EvalPlus computes HumanEval+/MBPP+ outputs
    /// this way). Tests on which the reference fails are dropped and noted.
    public func materializingExpected(_ problem: Problem) throws(SandboxError) -> Problem {
        guard problem.needsExpectedValues else { return problem }
        guard let reference = problem.referenceSolutions.first else {
            throw SandboxError(.invalidConfiguration, "problem \(problem.id) has call tests without expected values and no reference solution")
        }
        var p = problem
        let indices = problem.tests.indices.filter { if case .call(_, _, nil) = problem.tests[$0].kind { return true } else { return false } }
        let exec: [ExecutableTest] = indices.map {
            guard case .call(let f, let a, _) = problem.tests[$0].kind else { fatalError() }
            return .call(function: f, arguments: a)
        }
        let submission = Submission(code: Grader.solutionText(problem: problem, code: reference), language: .python,
                                    setupCode: problem.setupCode, entryPoint: problem.entryPoint,
                                    timeLimitSeconds: max(options.timeLimitSeconds ?? problem.timeLimitSeconds ?? options.defaultTimeLimitSeconds, 10),
                                    memoryLimitMiB: problem.memoryLimitMiB ?? options.defaultMemoryLimitMiB)
        var values: [Int: JSONValue] = [:]
        var failures: [Int: String] = [:]
        // Chunks of 50 calls per process. The driver stops a chunk at the first failing call:
        // the rest of that chunk then runs one call per process, so one bad input (or a chunk
        // that runs out of time as a whole) costs at most one chunk again.
        func runOne(_ range: Range<Int>) throws(SandboxError) -> Int? {
            var firstBad: Int?
            _ = try executor.run(submission, tests: Array(exec[range]), stopAtFirstFailure: true) { k, e in
                if case .returned(let v) = e.outcome { values[range.lowerBound + k] = v; return true }
                switch e.outcome {
                case .raised(let m), .failed(_, let m): failures[range.lowerBound + k] = m
                default: failures[range.lowerBound + k] = "no value"
                }
                firstBad = range.lowerBound + k
                return false
            }
            return firstBad
        }
        var start = 0
        while start < exec.count {
            let end = min(start + 50, exec.count)
            if let bad = try runOne(start..<end), end - start > 1 {
                for k in bad..<end { _ = try runOne(k..<(k + 1)) }
            }
            start = end
        }
        var dropped = 0
        var tests: [TestCase] = []
        for (i, t) in problem.tests.enumerated() {
            guard let pos = indices.firstIndex(of: i) else { tests.append(t); continue }
            guard case .call(let f, let a, _) = t.kind, let v = values[pos] else { dropped += 1; continue }
            tests.append(TestCase(.call(function: f, arguments: a, expected: v), name: t.name))
        }
        p.tests = tests
        if dropped > 0 {
            p.notes.append("\(dropped) call test(s) dropped: the reference solution failed on them (first: \(failures.values.first ?? "?"))")
        }
        return p
    }
}
