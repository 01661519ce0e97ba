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

    public init(executor: any SubmissionExecutor, options: GraderOptions = GraderOptions()) {
        var o = options
        o.maxTestsOverride = 0
        o.stopAtFirstFailure = false
        grader = Grader(executor: executor, options: o)
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
        for ref in problem.referenceSolutions {
            if let unsplit = item.unsplitTests {
                var whole = problem
                whole.tests = unsplit
                let r = grader.grade(problem: whole, code: ref, language: problem.referenceLanguage)
                if let e = r.error { return VerificationResult(status: .error, passes: [], detail: e) }
                if r.reward == 1 {
                    passes.append(Array(repeating: true, count: problem.tests.count))
                    continue
                }
            }
            let r = grader.grade(problem: problem, code: ref, language: problem.referenceLanguage)
            if let e = r.error { return VerificationResult(status: .error, passes: [], detail: e) }
            var row = Array(repeating: false, count: problem.tests.count)
            for t in r.tests where t.verdict == .ok { row[t.index] = true }
            passes.append(row)
            if firstFailure.isEmpty, let bad = r.tests.first(where: { $0.verdict != .ok }) {
                firstFailure = "reference \(passes.count - 1), test \(bad.index): \(bad.verdict.rawValue) \(bad.detail)"
            }
        }
        let ok = passes.contains { $0.allSatisfy { $0 } } && !(passes.first?.isEmpty ?? true)
        return VerificationResult(status: ok ? .passed : .failed, passes: passes, materializedTests: materialized,
                                  detail: ok ? "" : firstFailure)
    }
}
