import Rewards
import Sandboxing

/// What running a problem's reference solutions found.
public struct VerificationResult: Sendable {
    public enum Status: String, Sendable { case passed, failed, error }
    public var status: Status
    /// Per reference solution, per test: passed. Empty on error.
    public var passes: [[Bool]]
    /// The problem's tests after expected values were computed (HumanEval+/MBPP+), else nil.
    public var materializedTests: [TestCase]?
    /// The sandbox's message (status error), or the first failure of the best reference.
    public var detail: String
    /// True when it came from the cache.
    public var cached = false

    /// Tests that some reference passes.
    public var passedBySome: [Bool] {
        guard let first = passes.first else { return [] }
        return first.indices.map { i in passes.contains { $0[i] } }
    }
}

/// Runs every reference solution of a problem against all its tests in the sandbox.
///
/// Uses the `Grader` with every test selected (`maxTestsOverride = 0`) and without the early
/// stop, so it knows which tests fail. When splitting changed the tests (`unsplitTests`), each
/// reference first runs the unsplit script, one run instead of one per assert; only when that
/// fails are the split tests run one by one to learn which fail.
public struct Verifier: Sendable {
    public let grader: Grader
    /// Times each reference runs; a test counts as passed only if it passed every time. Two or
    /// more catch references whose answer depends on chance (set or dict order under hash
    /// randomisation, timing): such a problem would reward a correct program at random.
    public var runs: Int

    public init(executor: any SubmissionExecutor, options: GraderOptions = GraderOptions(), runs: Int = 1) {
        var o = options
        o.maxTestsOverride = 0
        o.stopAtFirstFailure = false
        grader = Grader(executor: executor, options: o)
        self.runs = max(1, runs)
    }

    public func verify(_ item: CurationItem) -> VerificationResult {
        var problem = item.problem
        var materialized: [TestCase]?
        if problem.needsExpectedValues {
            do throws(SandboxError) {
                problem = try grader.materializingExpected(problem)
                materialized = problem.tests
            } catch {
                return VerificationResult(status: .error, passes: [], detail: "expected values could not be computed: \(error.description)")
            }
        }
        var passes: [[Bool]] = []
        var firstFailure = ""
        for (k, ref) in problem.referenceSolutions.enumerated() {
            var row = Array(repeating: true, count: problem.tests.count)
            for run in 0..<runs {
                switch once(ref, problem: problem, unsplit: item.unsplitTests) {
                case .failure(let error):
                    return VerificationResult(status: .error, passes: [], detail: error.message)
                case .success(let (passed, failure)):
                    row = zip(row, passed).map { $0 && $1 }
                    if firstFailure.isEmpty, let failure {
                        firstFailure = "reference \(k)\(runs > 1 ? ", run \(run + 1) of \(runs)" : ""), \(failure)"
                    }
                }
            }
            passes.append(row)
        }
        let ok = passes.contains { $0.allSatisfy { $0 } } && !(passes.first?.isEmpty ?? true)
        return VerificationResult(status: ok ? .passed : .failed, passes: passes, materializedTests: materialized,
                                  detail: ok ? "" : firstFailure)
    }

    struct GradingFailed: Error { var message: String }

    /// One run of one reference: which tests it passed, and the first failure. When splitting
    /// changed the tests, the unsplit script runs first (one run instead of one per assert);
    /// only when it fails do the split tests run to learn which fail.
    private func once(_ ref: String, problem: Problem, unsplit: [TestCase]?) -> Result<([Bool], String?), GradingFailed> {
        if let unsplit {
            var whole = problem
            whole.tests = unsplit
            let r = grader.grade(problem: whole, code: ref, language: problem.referenceLanguage)
            if let e = r.error { return .failure(GradingFailed(message: e)) }
            if r.reward == 1 { return .success((Array(repeating: true, count: problem.tests.count), nil)) }
        }
        let r = grader.grade(problem: problem, code: ref, language: problem.referenceLanguage)
        if let e = r.error { return .failure(GradingFailed(message: e)) }
        var row = Array(repeating: false, count: problem.tests.count)
        for t in r.tests where t.verdict == .ok { row[t.index] = true }
        let failure = r.tests.first { $0.verdict != .ok }.map { "test \($0.index): \($0.verdict.rawValue) \($0.detail)" }
        return .success((row, failure))
    }
}
