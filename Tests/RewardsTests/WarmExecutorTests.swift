import Foundation
import Sandboxing
import Testing
@testable import Rewards

/// The warm fast path must give exactly the rewards of the cold path, with its isolation.
@Suite(.enabled(if: Shared.isRoot, "the sandbox needs root"))
struct WarmExecutorTests {
    static let warm: Grader = {
        let sandbox = try! Sandbox()
        let catalog = try! ProfileCatalog(directory: Shared.repoRoot + "/sandbox-profiles")
        return Grader(executor: try! WarmPythonExecutor(sandbox: sandbox, catalog: catalog))
    }()

    @Test(arguments: ["native.jsonl", "humaneval-5.jsonl", "humanevalplus-3.jsonl", "mbpp-5.jsonl", "rllm-leetcode-3.json",
                      "leetcodedataset-2.jsonl", "taco-fn-1.json"])
    func referenceSolutionsPassOnBothPaths(fixture: String) throws {
        let set = try ProblemLoader.load(path: Shared.fixture(fixture))
        let cold = Shared.grader()
        for problem in set.problems {
            let ready = try cold.materializingExpected(problem)
            guard let solution = ready.referenceSolutions.first else { continue }
            let code = Grader.solutionText(problem: ready, code: solution)
            let w = Self.warm.grade(problem: ready, code: code, language: .python)
            let c = cold.grade(problem: ready, code: code, language: .python)
            #expect(w.reward == 1, "\(problem.id) warm: \(w.reason) \(w.detail)")
            #expect(w.reward == c.reward && w.tests.count == c.tests.count, "\(problem.id): warm \(w.reason), cold \(c.reason)")
        }
    }

    static let problem = Problem(id: "echo", source: "test", tests: (1...4).map { .stdio("\($0)\n", "\($0)\n") })

    func grade(_ code: String, memoryMiB: Int = 256) -> GradeResult {
        var p = Self.problem
        p.memoryLimitMiB = memoryMiB
        p.timeLimitSeconds = 1
        return Self.warm.grade(problem: p, code: code, language: .python)
    }

    @Test func negativeControlsGetTheirVerdicts() {
        #expect(grade("print(int(input()) + 1)").tests.first?.verdict == .wrongAnswer)
        #expect(grade("while True: pass").tests.first?.verdict == .timeLimitExceeded)
        #expect(grade("x = []\nwhile True: x.append(bytearray(1 << 20))", memoryMiB: 64).tests.first?.verdict == .memoryLimitExceeded)
        #expect(grade("import sys\nsys.exit(0)").tests.first?.verdict == .wrongAnswer)
        #expect(grade("print(input())").reward == 1)
    }

    @Test func stateWrittenByOneTestIsNotSeenByTheNext() {
        // Passes only when every test starts from scratch: each leaves a file and a module
        // attribute, and fails if it finds one left by an earlier test.
        let code = """
            import os, math
            if os.path.exists('/tmp/seen') or hasattr(math, 'seen'):
                print('leak')
            else:
                open('/tmp/seen', 'w').write('x'); math.seen = True
                print(input())
            """
        let r = grade(code)
        #expect(r.reward == 1, "\(r.reason) \(r.detail)")
        #expect(r.tests.count == 4)
    }

    @Test func callTestsAreJudgedOnTheHostWithTheNonce() {
        let p = Problem(id: "inc", source: "test", tests: [.call(nil, [.number(1)], expected: .number(2)),
                                                          .call(nil, [.number(5)], expected: .number(6))], entryPoint: "inc")
        #expect(Self.warm.grade(problem: p, code: "def inc(x):\n    return x + 1", language: .python).reward == 1)
        // The forged records carry the right values (x + 1), so only the nonce check can reject
        // them: one with a wrong nonce, one with none at all.
        for nonceField in ["\"nonce\": \"0\", ", ""] {
            let forged = """
                import os
                def inc(x):
                    open('/work/assay-result.json', 'w').write('{\(nonceField)"results": [{"v": %d}]}' % (x + 1))
                    os._exit(0)
                """
            let r = Self.warm.grade(problem: p, code: forged, language: .python)
            #expect(r.reward == 0, "\(r.reason) \(r.detail)")
            #expect(r.tests.first?.verdict == .runtimeError && r.detail.contains("nonce"), "\(r.reason) \(r.detail)")
        }
    }

    /// Nothing of a call test's stdin (its arguments, the nonce) can be read by the solution on
    /// the warm path: not by rewinding fd 0, reopening it, or through another process's fds.
    @Test func stdinIsGoneBeforeTheSolutionRuns() {
        let p = Problem(id: "c", source: "test", tests: [.call(nil, ["SECRET-ARG-4711"], expected: 2),
                                                        .call(nil, ["SECRET-ARG-4711"], expected: 2)], entryPoint: "inc")
        let code = AntiHackingTests.stdinProbe + """

            leaks = stdin_leaks()
            def inc(x):
                leaks.extend(stdin_leaks())
                assert not leaks, 'stdin leak: %r' % leaks
                return 2
            """
        let r = Self.warm.grade(problem: p, code: code, language: .python)
        #expect(r.reward == 1, "\(r.reason) \(r.detail)")
    }

    // MARK: - numpy, imported up front or deferred

    @Test func numpyIsImportedUpFrontOnlyForSubmissionsThatNameIt() {
        let plain = WarmPythonExecutor.warmImports(naming: ["n = int(input())\nprint(n)"])
        #expect(plain.contains("__assay_defer(\"numpy\")"), "'input' must not count as naming np")
        #expect(!plain.contains("import numpy as np"))
        for text in ["print(np.zeros(2))", "import numpy\nprint(1)", "x = [np]"] {
            let named = WarmPythonExecutor.warmImports(naming: ["def f(): pass", text])
            #expect(named.contains("import numpy as np") && !named.contains("__assay_defer(\"numpy\")"), "\(text)")
        }
        // A check script that names numpy counts too.
        #expect(WarmPythonExecutor.warmImports(naming: ["def f(): pass", "assert np.allclose(f(), 1)"]).contains("import numpy as np"))
    }

    /// A deferred numpy must behave as the imported one: `np` is bound in every test, and any
    /// way of reaching it (attribute, `from` import, submodule import, a name built at run
    /// time) loads the real module. Values it returns are encoded and compared as usual.
    @Test func deferredNumpyBehavesAsImported() {
        let dynamic = [
            "print(globals()['n' + 'p'].array([int(input())]).sum())",
            "m = __import__('num' + 'py')\nprint(int(m.int64(int(input()))))",
            "import importlib\nla = importlib.import_module('num' + 'py.linalg')\nprint(round(la.norm([float(input())])))",
            "exec('from num' + 'py import array as a')\nprint(a([int(input())])[0])",
        ]
        for code in dynamic {
            #expect(!WarmPythonExecutor.warmImports(naming: [code]).contains("import numpy as np"))
            let r = grade(code)
            #expect(r.reward == 1, "\(code): \(r.reason) \(r.detail)")
        }
        let p = Problem(id: "arr", source: "test", tests: [.call(nil, [.number(3)], expected: .array([.number(0), .number(1), .number(2)]))],
                        entryPoint: "arange")
        let viaGlobals = "def arange(n):\n    return globals()['n' + 'p'].arange(n)"
        let r = Self.warm.grade(problem: p, code: viaGlobals, language: .python)
        #expect(r.reward == 1, "\(r.reason) \(r.detail)")
        let named = Self.warm.grade(problem: p, code: "def arange(n):\n    return np.arange(n)", language: .python)
        #expect(named.reward == 1, "\(named.reason) \(named.detail)")
    }
}
