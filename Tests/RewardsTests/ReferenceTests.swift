import Testing
import Foundation
@testable import Rewards

/// Every reference solution shipped with a fixture passes, through the whole grader.
@Suite(.enabled(if: Shared.isRoot, "needs root for the sandbox"))
struct FixtureReferenceTests {
    static let files = ["humaneval-5.jsonl", "humanevalplus-3.jsonl", "mbpp-5.jsonl", "mbppplus-3.jsonl", "rllm-leetcode-3.json",
                        "leetcodedataset-2.jsonl", "native.jsonl", "taco-fn-1.json"]

    @Test(arguments: files)
    func referencesPass(_ file: String) throws {
        let grader = Shared.grader()
        let set = try ProblemLoader.load(path: Shared.fixture(file))
        for var p in set.problems {
            p = try grader.materializingExpected(p)
            guard let ref = p.referenceSolutions.first else { continue }
            let r = grader.grade(problem: p, code: ref, language: .python)
            #expect(r.reward == 1, "\(file) \(p.id): \(r.reason) \(r.detail) \(r.error ?? "")")
        }
    }
}
