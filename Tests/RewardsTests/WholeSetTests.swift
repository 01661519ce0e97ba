import Testing
import Foundation
@testable import Rewards

/// Every reference solution that ships with the data passes. These read ../shared/code-data
/// (or $ASSAY_CODE_DATA) and skip when it is absent. By default the larger sets run a
/// representative subset (every k-th problem) to keep CI short; ASSAY_FULL_SETS=1 runs them all.
@Suite(.serialized, .enabled(if: Shared.isRoot, "needs root for the sandbox"), .enabled(if: Shared.codeData != nil, "../shared/code-data is absent: whole-set tests skipped"))
struct WholeSetTests {
    /// Problems `i` with `i % stride == 0` unless ASSAY_FULL_SETS=1.
    func run(_ path: String, format: DataFormat? = nil, stride: Int, expectAll count: Int) throws {
        let set = try ProblemLoader.load(path: Shared.codeData! + "/" + path, format: format)
        #expect(set.problems.count == count, "\(path) holds \(set.problems.count) problems")
        let k = Shared.fullSets ? 1 : stride
        var chosen = set.problems.enumerated().filter { $0.offset % k == 0 }.map(\.element)
        if let only = ProcessInfo.processInfo.environment["ASSAY_SET_IDS"], !only.isEmpty {
            let ids = Set(only.split(separator: ",").map(String.init))
            chosen = set.problems.filter { ids.contains($0.id) }
        }
        let grader = Shared.grader(maxTests: 0)
        let start = Date()
        let results = parallelMap(chosen, jobs: 2) { p -> (String, GradeResult) in
            do {
                let q = try grader.materializingExpected(p)
                return (p.id, grader.grade(problem: q, code: q.referenceSolutions.first ?? "", language: .python))
            } catch {
                return (p.id, .failure("\(error)"))
            }
        }
        // Known exception: rllm LeetCode 126 imports sortedcontainers (apt python3-sortedcontainers).
        let hasSortedContainers = FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/sortedcontainers")
        let failed = results.filter { $0.1.reward != 1 && !(!hasSortedContainers && $0.1.detail.contains("No module named 'sortedcontainers'")) }
        let tests = results.reduce(0) { $0 + $1.1.tests.count }
        let secs = Date().timeIntervalSince(start)
        print("\(path): \(results.count - failed.count)/\(results.count) pass, \(tests) tests, \(String(format: "%.1f", secs)) s (\(String(format: "%.0f", secs / Double(max(results.count, 1)) * 1000)) ms/problem on 2 jobs)\(k > 1 ? " [subset 1/\(k); ASSAY_FULL_SETS=1 for all]" : "")")
        for (id, r) in failed.prefix(10) {
            Issue.record("\(path) \(id): \(r.reason) \(r.detail.prefix(300)) \(r.error ?? "")")
        }
        #expect(failed.isEmpty)
    }

    @Test func humanEval() throws { try run("humaneval/HumanEval.jsonl.gz", stride: 2, expectAll: 164) }
    @Test func humanEvalPlusAllInputs() throws { try run("humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz", stride: 8, expectAll: 164) }
    @Test func mbpp() throws { try run("mbpp/mbpp.jsonl", stride: 6, expectAll: 974) }
    @Test func leetCodeRllm() throws { try run("deepcoder-rllm/test_leetcode.json.gz", stride: 2, expectAll: 200) }
}
