/// The language a submission is graded in.
public enum Language: String, Sendable, Codable, CaseIterable {
    case python
    case cpp
}

/// One test of a problem.
public struct TestCase: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Feed `input` on stdin, compare stdout with `output` using the problem's checker.
        case stdio(input: String, output: String)
        /// Call a function with one JSON value per argument and compare the return value with
        /// `expected` on the host. `function` nil: the problem's entry point. `expected` nil: the
        /// value is computed by running the problem's reference solution (HumanEval+/MBPP+).
        case call(function: String?, arguments: [JSONValue], expected: JSONValue?)
        /// Python run after the solution (asserts, or a `check(candidate)` call): passes iff it
        /// runs to its end without an exception, which the driver then records out of band.
        case script(String)
    }
    public var kind: Kind
    /// A label for reports (e.g. a Code Jam file name); optional.
    public var name: String?

    public init(_ kind: Kind, name: String? = nil) {
        self.kind = kind
        self.name = name
    }

    public static func stdio(_ input: String, _ output: String, name: String? = nil) -> TestCase {
        TestCase(.stdio(input: input, output: output), name: name)
    }
    public static func call(_ function: String? = nil, _ arguments: [JSONValue], expected: JSONValue?, name: String? = nil) -> TestCase {
        TestCase(.call(function: function, arguments: arguments, expected: expected), name: name)
    }
    public static func script(_ code: String, name: String? = nil) -> TestCase {
        TestCase(.script(code), name: name)
    }

    /// The "length of the input" DeepCoder sorts by: characters of a stdin input, the number of
    /// arguments of a call, the characters of a script.
    public var inputLength: Int {
        switch kind {
        case .stdio(let input, _): input.count
        case .call(_, let args, _): args.count
        case .script(let s): s.count
        }
    }
}

/// How a function call's return value is compared with the expected one (host side).
public enum CallComparison: Sendable, Hashable {
    /// Python `==` on JSON values (tuples arrive as lists), as LiveCodeBench does.
    case exact
    /// `exact`, or equal to `expected[0]` when expected is a one-element list (TACO/APPS, where
    /// outputs are usually stored as `[ret]`).
    case tacoUnwrap
    /// EvalPlus: floats within `atol` (1e-6 when the task says 0 and the value is a float),
    /// everything else exact.
    case absoluteTolerance(Double)
}

/// A problem: tests plus what is needed to run a solution against them.
public struct Problem: Sendable {
    public var id: String
    /// Data source / adapter name (e.g. "livecodebench", "humanevalplus", "native").
    public var source: String
    public var statement: String?
    public var tests: [TestCase]
    /// Function that call tests invoke by default: `name`, a `class Solution` method name, or an
    /// expression like `Solution().twoSum`.
    public var entryPoint: String?
    /// Checker for stdio tests; nil: the grader's default (LiveCodeBench).
    public var checker: Checker?
    public var callComparison: CallComparison
    /// CPU time limit per test in seconds; nil: the grader's default.
    public var timeLimitSeconds: Double?
    /// Memory limit in MiB; nil: the grader's default.
    public var memoryLimitMiB: Int?
    /// Python run before the solution in the same namespace (e.g. a LeetCode import prelude).
    public var setupCode: String?
    /// Prepended to a solution that does not define `entryPoint` (HumanEval's prompt: a
    /// completion-style answer is the function body only).
    public var solutionPrefix: String?
    /// Reference solutions shipped with the data (used to compute expected values and in tests).
    public var referenceSolutions: [String]
    public var referenceLanguage: Language
    /// What the adapter changed or dropped (data defects), for reports.
    public var notes: [String]
    /// Script tests define `check(candidate)` and the driver calls it with the entry point
    /// (HumanEval, LeetCode); otherwise the script calls the entry point itself (MBPP asserts).
    public var scriptCallsCheck: Bool = false
    /// Overrides the grader's test cap for this problem (0: all tests). HumanEval+ and MBPP+ run
    /// every input, as the reference does; nil: the grader's `maxTests` (15).
    public var maxTests: Int?

    public init(id: String, source: String, statement: String? = nil, tests: [TestCase], entryPoint: String? = nil,
                checker: Checker? = nil, callComparison: CallComparison = .exact, timeLimitSeconds: Double? = nil,
                memoryLimitMiB: Int? = nil, setupCode: String? = nil, solutionPrefix: String? = nil,
                referenceSolutions: [String] = [], referenceLanguage: Language = .python, notes: [String] = []) {
        self.id = id
        self.source = source
        self.statement = statement
        self.tests = tests
        self.entryPoint = entryPoint
        self.checker = checker
        self.callComparison = callComparison
        self.timeLimitSeconds = timeLimitSeconds
        self.memoryLimitMiB = memoryLimitMiB
        self.setupCode = setupCode
        self.solutionPrefix = solutionPrefix
        self.referenceSolutions = referenceSolutions
        self.referenceLanguage = referenceLanguage
        self.notes = notes
    }

    /// True when some call test still needs its expected value computed from a reference.
    public var needsExpectedValues: Bool {
        tests.contains { if case .call(_, _, nil) = $0.kind { return true } else { return false } }
    }
}
