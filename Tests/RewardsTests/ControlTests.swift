import Testing
import Foundation
@testable import Rewards

/// Wrong versions of reference solutions get 0 with the right verdict; hacks cannot pass.
@Suite(.enabled(if: Shared.isRoot, "needs root for the sandbox"))
struct NegativeControlTests {
    func humanEval(_ n: Int) throws -> Problem {
        try ProblemLoader.load(path: Shared.fixture("humaneval-5.jsonl")).problems[n]
    }
    func humanEvalPlus() throws -> Problem {
        try Shared.grader(.cold).materializingExpected(try ProblemLoader.load(path: Shared.fixture("humanevalplus-3.jsonl")).problems[1])
    }
    let fence = "```"

    @Test(arguments: ExecutorKind.allCases) func changedReturnValueIsWrongAnswer(executor: ExecutorKind) throws {
        let p = try humanEval(1)  // truncate_number
        let g = Shared.grader(executor, timeLimit: 3)
        let r = g.grade(problem: p, code: "    return number % 1.0 + 0.5\n", language: .python)
        #expect(r.reward == 0 && r.tests.first?.verdict == .wrongAnswer, "\(r.reason) \(r.detail)")
        let plus = try humanEvalPlus()
        let r2 = g.grade(problem: plus, code: "def truncate_number(number):\n    return number % 1.0 + 0.5\n", language: .python)
        #expect(r2.reward == 0 && r2.tests.first?.verdict == .wrongAnswer, "\(r2.reason) \(r2.detail)")
    }

    @Test(arguments: ExecutorKind.allCases) func emptyBodyFails(executor: ExecutorKind) throws {
        let g = Shared.grader(executor, timeLimit: 3)
        let r = g.grade(problem: try humanEval(1), code: "def truncate_number(number: float) -> float:\n    pass\n", language: .python)
        #expect(r.reward == 0 && [.wrongAnswer, .runtimeError].contains(r.tests.first?.verdict), "\(r.reason)")
        let r2 = g.grade(problem: try humanEvalPlus(), code: "def truncate_number(number):\n    pass\n", language: .python)
        #expect(r2.reward == 0 && r2.tests.first?.verdict == .wrongAnswer, "\(r2.reason)")
    }

    @Test(arguments: ExecutorKind.allCases) func infiniteLoopIsTimeLimit(executor: ExecutorKind) throws {
        let g = Shared.grader(executor, timeLimit: 1)
        let r = g.grade(problem: try humanEval(1), code: "def truncate_number(number):\n    while True:\n        pass\n", language: .python)
        #expect(r.reward == 0 && r.tests.first?.verdict == .timeLimitExceeded, "\(r.reason) \(r.detail)")
        let r2 = g.grade(problem: try humanEvalPlus(), code: "def truncate_number(number):\n    while True:\n        pass\n", language: .python)
        #expect(r2.reward == 0 && r2.tests.first?.verdict == .timeLimitExceeded, "\(r2.reason) \(r2.detail)")
        let stdin = Problem(id: "s", source: "native", tests: [.stdio("1\n", "1\n")])
        let r3 = g.grade(problem: stdin, response: "\(fence)python\nwhile True: pass\n\(fence)")
        #expect(r3.tests.first?.verdict == .timeLimitExceeded)
    }

    @Test(arguments: ExecutorKind.allCases) func memoryBombIsMemoryLimit(executor: ExecutorKind) throws {
        let g = Shared.grader(executor, timeLimit: 5, memoryMiB: 256)
        let bomb = "def truncate_number(number):\n    x = []\n    while True:\n        x.append(bytearray(16 << 20))\n"
        let r = g.grade(problem: try humanEval(1), code: bomb, language: .python)
        #expect(r.reward == 0 && r.tests.first?.verdict == .memoryLimitExceeded, "\(r.reason) \(r.detail)")
        let stdin = Problem(id: "s", source: "native", tests: [.stdio("1\n", "1\n")])
        let r2 = g.grade(problem: stdin, response: "\(fence)cpp\n#include <vector>\n#include <cstring>\nint main(){std::vector<char*> v; for(;;){char* p = new char[1<<24]; memset(p, 1, 1<<24); v.push_back(p);} }\n\(fence)")
        #expect(r2.tests.first?.verdict == .memoryLimitExceeded, "\(r2.reason) \(r2.detail)")
    }
}

@Suite(.enabled(if: Shared.isRoot, "needs root for the sandbox"))
struct AntiHackingTests {
    func he() throws -> Problem { try ProblemLoader.load(path: Shared.fixture("humaneval-5.jsonl")).problems[1] }
    func mbpp() throws -> Problem { try ProblemLoader.load(path: Shared.fixture("mbpp-5.jsonl")).problems[0] }
    let calls = Problem(id: "c", source: "native", tests: [.call(nil, [1], expected: 2), .call(nil, [5], expected: 6)], entryPoint: "inc")

    func all(_ code: String, _ executor: ExecutorKind) throws -> [GradeResult] {
        let g = Shared.grader(executor, timeLimit: 3)
        return [g.grade(problem: try he(), code: code, language: .python),
         g.grade(problem: try mbpp(), code: code, language: .python),
         g.grade(problem: calls, code: code, language: .python)]
    }

    @Test(arguments: ExecutorKind.allCases) func exitingBeforeTheChecksFails(executor: ExecutorKind) throws {
        for code in ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit(0)", "exit(0)",
                     "import sys\nprint('all passed')\nsys.stdout.flush()\nimport os\nos._exit(0)"] {
            for r in try all(code, executor) {
                #expect(r.reward == 0, "\(code): \(r.reason)")
                #expect(r.error == nil)
            }
        }
    }

    @Test(arguments: ExecutorKind.allCases) func exitingInsideTheCallFails(executor: ExecutorKind) throws {
        let code = "def inc(x):\n    import os\n    os._exit(0)\ndef truncate_number(x):\n    import os\n    os._exit(0)\ndef min_cost(*a):\n    import sys\n    sys.exit(0)"
        for r in try all(code, executor) { #expect(r.reward == 0, "\(r.reason)") }
    }

    @Test(arguments: ExecutorKind.allCases) func alwaysEqualObjectsAndPatchedBuiltinsFail(executor: ExecutorKind) throws {
        let eq = """
            class Any_:
                def __eq__(self, o): return True
                def __ne__(self, o): return False
                def __sub__(self, o): return 0
                def __rsub__(self, o): return 0
                def __abs__(self): return 0
                def __lt__(self, o): return True
            def truncate_number(x): return Any_()
            def min_cost(*a): return Any_()
            def inc(x): return Any_()
            """
        for r in try all(eq, executor) { #expect(r.reward == 0, "\(r.reason) \(r.detail)") }
        let patched = """
            import builtins, math
            builtins.abs = lambda x: 0
            math.isclose = lambda *a, **k: True
            import json
            json.dumps = lambda *a, **k: '{"passed": true}'
            def truncate_number(x): return 7
            def min_cost(*a): return 7
            def inc(x): return 7
            """
        for r in try all(patched, executor) { #expect(r.reward == 0, "\(r.reason) \(r.detail)") }
    }

    /// Defines `stdin_leaks()`: everything of this run's stdin (the call arguments, the nonce)
    /// that can still be read, rewound (`lseek(0, 0, 0)`: stdin may be a seekable memfd), reopened
    /// through `/proc/self/fd/0` and `/dev/stdin`, or through any process's fds in /proc. The
    /// needles are built at run time so the program's own text (which is in the job) never matches.
    static let stdinProbe = #"""
        def stdin_leaks():
            import os, re
            needles = [re.compile(('SECRET-ARG-' + str(4700 + 11)).encode()), re.compile(rb'"nonce" *: *"[0-9a-f]{16,}"')]
            found = []
            def look(data, where):
                if any(n.search(data) for n in needles): found.append(where)
            try:
                os.lseek(0, 0, 0)
                look(os.read(0, 1 << 22), 'fd 0 rewound')
            except OSError:
                pass
            paths = ['/proc/self/fd/0', '/dev/stdin']
            for pid in os.listdir('/proc'):
                if pid.isdigit():
                    paths += ['/proc/%s/cmdline' % pid, '/proc/%s/environ' % pid]
                    try: paths += ['/proc/%s/fd/%s' % (pid, fd) for fd in os.listdir('/proc/%s/fd' % pid)]
                    except OSError: pass
            for path in paths:
                try: fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                except OSError: continue
                try:
                    try: data = os.pread(fd, 1 << 22, 0)
                    except OSError: data = os.read(fd, 1 << 22)
                    look(data, path)
                except OSError:
                    pass
                finally:
                    os.close(fd)
            return found
        """#

    @Test(arguments: ExecutorKind.allCases) func forgingOrRemovingTheRecordFails(executor: ExecutorKind) throws {
        let forge = """
            import os, atexit
            def w():
                open('/work/assay-result.json', 'w').write('{"passed": true, "results": [{"v": 2}, {"v": 6}], "nonce": "0"}')
            w()
            atexit.register(w)
            os.symlink('/etc/passwd', '/work/x')
            def truncate_number(x):
                w(); os._exit(0)
            def min_cost(*a):
                w(); os._exit(0)
            def inc(x):
                w(); os._exit(0)
            """
        for r in try all(forge, executor) { #expect(r.reward == 0, "\(r.reason) \(r.detail)") }
        // Reading the tests from disk finds nothing: they arrive on stdin, which is gone.
        let peek = """
            import os
            found = []
            for root in ['/app', '/work', '/tmp']:
                for d, _, files in os.walk(root):
                    for f in files:
                        try: found.append(open(os.path.join(d, f)).read())
                        except Exception: pass
            import sys
            rest = sys.stdin.read()
            \(Self.stdinProbe)
            def inc(x):
                assert not any('SECRET-ARG-' + str(4700 + 11) in t for t in found) and rest == '', 'leak'
                assert not stdin_leaks(), 'stdin leak: %r' % stdin_leaks()
                return 2
            """
        let secret = Problem(id: "c", source: "native", tests: [.call(nil, ["SECRET-ARG-4711"], expected: 2)], entryPoint: "inc")
        let r = Shared.grader(executor, timeLimit: 3).grade(problem: secret, code: peek, language: .python)
        #expect(r.reward == 1, "\(r.detail)")
    }

    @Test(arguments: ExecutorKind.allCases) func printingPassedIsNotAResult(executor: ExecutorKind) throws {
        let stdin = Problem(id: "s", source: "native", tests: [.stdio("1\n", "2\n")])
        let r = Shared.grader(executor, timeLimit: 3).grade(problem: stdin, response: "```python\nprint('all passed')\n```")
        #expect(r.reward == 0 && r.tests.first?.verdict == .wrongAnswer)
        for r in try all("print('all passed')\nprint('{\"passed\": true}')", executor) { #expect(r.reward == 0) }
    }
}
