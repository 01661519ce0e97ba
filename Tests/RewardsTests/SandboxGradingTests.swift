import Testing
import Foundation
@testable import Rewards

let fence = "```"
func py(_ code: String) -> String { "Answer:\n\(fence)python\n\(code)\n\(fence)\n" }

@Suite(.enabled(if: Shared.isRoot, "needs root for the sandbox"))
struct SandboxGradingTests {
    let stdinProblem = Problem(id: "sum", source: "native", tests: [
        .stdio("1 2\n", "3\n"), .stdio("10 20\n", "30"), .stdio("5 5\n", "10"),
    ])

    @Test func stdinPassesAndFails() {
        let g = Shared.grader(timeLimit: 2)
        let ok = g.grade(problem: stdinProblem, response: py("a, b = map(int, input().split())\nprint(a + b)"))
        #expect(ok.reward == 1, "\(ok.detail)")
        #expect(ok.tests.count == 3)
        let wa = g.grade(problem: stdinProblem, response: py("a, b = map(int, input().split())\nprint(a * b)"))
        #expect(wa.reward == 0)
        #expect(wa.tests.first?.verdict == .wrongAnswer)
        #expect(wa.tests.count == 1)  // early stop
        // Preamble names are available without imports (reference behaviour), stdin.buffer works.
        let pre = g.grade(problem: stdinProblem, response: py("import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint(reduce(lambda x, y: x + y, [a, b]))"))
        #expect(pre.reward == 1, "\(pre.detail)")
        let none = g.grade(problem: stdinProblem, response: "print(3)")
        #expect(none.reward == 0 && none.reason == "no_code")
    }

    @Test func cppCompiledOnceAndGraded() {
        let g = Shared.grader(timeLimit: 2)
        let ok = g.grade(problem: stdinProblem, response: "\(fence)cpp\n#include <cstdio>\nint main(){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",a+b);}\n\(fence)")
        #expect(ok.reward == 1, "\(ok.detail)")
        #expect(ok.language == .cpp)
        let ce = g.grade(problem: stdinProblem, response: "\(fence)cpp\nint main( {\n\(fence)")
        #expect(ce.reward == 0 && ce.tests.first?.verdict == .compileError)
    }

    @Test func preambleDoesNotShadowPow() {
        let p = Problem(id: "pow", source: "native", tests: [.stdio("", "4\n")])
        let r = Shared.grader(timeLimit: 2).grade(problem: p, response: py("print(pow(2, 10, 1020))"))
        #expect(r.reward == 1, "\(r.detail)")
        let lc = Problem(id: "pow-lc", source: "native", tests: [.stdio("", "4\n")], setupCode: PythonHarness.leetCodePrelude)
        let r2 = Shared.grader(timeLimit: 2).grade(problem: lc, response: py("print(pow(2, 10, 1020))"))
        #expect(r2.reward == 1, "\(r2.detail)")
    }

    @Test func functionCallsLiveCodeBenchStyle() throws {
        let p = Problem(id: "lcb-fn", source: "livecodebench", tests: [
            .call(nil, [.array([1, 2, 3]), 2], expected: .array([3, 2])),
            .call(nil, [.array([5]), 1], expected: .array([5])),
        ], entryPoint: "top")
        let g = Shared.grader(timeLimit: 2)
        let ok = g.grade(problem: p, response: py("class Solution:\n    def top(self, nums: List[int], k: int) -> List[int]:\n        return tuple(sorted(nums, reverse=True)[:k])"))
        #expect(ok.reward == 1, "\(ok.detail)")
        let plain = g.grade(problem: p, response: py("def top(nums, k):\n    return sorted(nums)[::-1][:k]"))
        #expect(plain.reward == 1, "\(plain.detail)")
        let wa = g.grade(problem: p, response: py("def top(nums, k):\n    return sorted(nums)[:k]"))
        #expect(wa.reward == 0 && wa.tests.first?.verdict == .wrongAnswer)
        let re = g.grade(problem: p, response: py("def top(nums, k):\n    raise ValueError('boom')"))
        #expect(re.reward == 0 && re.tests.first?.verdict == .runtimeError)
        #expect(re.tests.first?.detail.contains("boom") == true)
    }
}
