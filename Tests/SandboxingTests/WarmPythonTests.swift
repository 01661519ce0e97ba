import Glibc
import Sandboxing
import Testing

/// The warm path must hold every isolation and limit property of a cold run, per test.
@Suite(.enabled(if: TestSupport.isRoot, "the sandbox needs root"))
struct WarmPythonTests {
    let profile = TestSupport.profile("python3")

    func run(_ source: String, _ tests: [WarmTest], limits: Limits = Limits(cpuTimeSeconds: 1, memoryBytes: 128 << 20),
             preamble: String = "import math\n", stop: Bool = false) throws -> [WarmTestResult] {
        try TestSupport.sandbox.runWarmPython(source: source, preamble: preamble, tests: tests, limits: limits,
                                              profile: profile, stopAtFirstFailure: stop)
    }

    @Test func eachTestGetsItsOwnStdinAndOutput() throws {
        let results = try run("import sys\nprint(int(sys.stdin.read()) * 2)",
                              (1...5).map { WarmTest(stdin: Array("\($0)".utf8)) })
        #expect(results.map(\.run.verdict) == Array(repeating: .ok, count: 5))
        #expect(results.map(\.run.stdoutText) == ["2\n", "4\n", "6\n", "8\n", "10\n"])
    }

    @Test func driverResultComesBackOutOfBand() throws {
        let results = try run("def add(a, b):\n    print('noise')\n    return a + b",
                              [WarmTest(driver: "__assay_result__(add(2, 3))"), WarmTest(driver: "__assay_result__(add([1], [2]))")])
        #expect(results.map { $0.returned.map { String(decoding: $0, as: UTF8.self) } } == ["5", "[1, 2]"])
        #expect(results[0].run.stdoutText == "noise\n")
    }

    @Test func aResultFileIsCollectedPerTestAndNeverFollowed() throws {
        let source = """
            import os, sys
            kind = sys.stdin.read()
            if kind == 'file':
                open('/work/result.json', 'w').write('{"ok": 1}')
            elif kind == 'symlink':
                os.symlink('/etc/passwd', '/work/result.json')
            elif kind == 'fifo':
                os.mkfifo('/work/result.json')
            """
        let results = try TestSupport.sandbox.runWarmPython(
            source: source, preamble: "", tests: ["file", "none", "symlink", "fifo", "file"].map { WarmTest(stdin: Array($0.utf8)) },
            limits: Limits(cpuTimeSeconds: 1), profile: profile, stopAtFirstFailure: false, collect: "result.json")
        #expect(results.map { $0.collected.map { String(decoding: $0, as: UTF8.self) } } == [#"{"ok": 1}"#, nil, nil, nil, #"{"ok": 1}"#])
    }

    @Test func thePreludeCompiledInTheZygoteRunsBeforeTheSourceOnlyWhenAsked() throws {
        // The zygote compiles the prelude once; a job that names it runs it in each test's
        // namespace first, and a job without it on the same zygote sees none of it.
        let prelude = "import sys\ndef twice(x):\n    return 2 * x\n"
        let limits = Limits(cpuTimeSeconds: 1)
        let with = try TestSupport.sandbox.runWarmPython(
            source: "print(twice(int(input())), __name__, sys.argv)", preamble: "", prelude: prelude,
            tests: [WarmTest(stdin: Array("21\n".utf8)), WarmTest(stdin: Array("4\n".utf8))],
            limits: limits, profile: profile, stopAtFirstFailure: false)
        #expect(with.map(\.run.stdoutText) == ["42 __main__ ['/app/main.py']\n", "8 __main__ ['/app/main.py']\n"])
        let without = try TestSupport.sandbox.runWarmPython(
            source: "print('twice' in globals())", preamble: "", zygotePrelude: prelude, tests: [WarmTest()],
            limits: limits, profile: profile, stopAtFirstFailure: false)
        #expect(without.map(\.run.stdoutText) == ["False\n"])
        #expect(throws: SandboxError.self) {
            try TestSupport.sandbox.runWarmPython(source: "pass", preamble: "", prelude: "x = 1\n", zygotePrelude: prelude,
                                                  tests: [WarmTest()], limits: limits, profile: profile, stopAtFirstFailure: false)
        }
    }

    @Test func aTestRunsUnderTheInterpretersNameAsAColdRunDoes() throws {
        let results = try run("print(open('/proc/self/comm').read().strip())", [WarmTest()])
        #expect(results.map(\.run.stdoutText) == ["python3\n"])
    }

    @Test func exitingBeforeTheDriverLeavesNoResult() throws {
        let results = try run("import sys\nsys.exit(0)\ndef f(): return 1", [WarmTest(driver: "__assay_result__(f())")])
        #expect(results[0].run.verdict == .ok)
        #expect(results[0].returned == nil)
    }

    @Test func stateWrittenByOneTestIsNotSeenByTheNext() throws {
        let source = """
            import os, sys, glob
            seen = sorted(glob.glob('/tmp/*') + glob.glob('/work/*') + glob.glob('/dev/shm/*'))
            print(seen, 'marker' in globals(), os.environ.get('LEAK'))
            open('/tmp/leak', 'w').write('x'); open('/work/leak', 'w').write('x'); open('/dev/shm/leak', 'w').write('x')
            os.environ['LEAK'] = '1'
            globals()['marker'] = 1
            import math; math.leak = 1
            print(hasattr(math, 'leak'))
            """
        let results = try run(source, [WarmTest(), WarmTest()])
        #expect(results.map(\.run.stdoutText) == ["[] False None\nTrue\n", "[] False None\nTrue\n"])
    }

    @Test func aDaemonFromOneTestDoesNotReachTheNext() throws {
        let source = """
            import os, sys, time
            if sys.stdin.read() == 'spawn':
                if os.fork() == 0:
                    os.setsid()
                    time.sleep(30)
                print('spawned')
            else:
                pids = [p for p in os.listdir('/proc') if p.isdigit()]
                print(len(pids))
            """
        let results = try run(source, [WarmTest(stdin: Array("spawn".utf8)), WarmTest(stdin: [])])
        #expect(results[0].run.stdoutText == "spawned\n")
        // Only the harness (pid 1) and the test itself.
        #expect(results[1].run.stdoutText == "2\n")
    }

    @Test func aTestCannotKillTheHarness() throws {
        let results = try run("import os, signal\nfor s in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):\n    os.kill(1, s)\nprint('alive')",
                              [WarmTest(), WarmTest()])
        #expect(results.map(\.run.stdoutText) == ["alive\n", "alive\n"])
    }

    @Test func aTestCannotForgeHarnessRecords() throws {
        // fd 1 of the harness is the channel to the host; /proc/1 is closed to the tests.
        let results = try run("""
            import os
            for path in ('/proc/1/fd/1', '/proc/1/mem'):
                try:
                    open(path, 'wb').write(b'{"index": 1, "exited": true, "code": 0}\\n')
                    print('opened', path)
                except OSError as e:
                    print('denied', path)
            """, [WarmTest()])
        #expect(results.count == 1)
        #expect(results[0].run.stdoutText == "denied /proc/1/fd/1\ndenied /proc/1/mem\n")
    }

    @Test func perTestLimitsGiveTheirVerdicts() throws {
        let source = """
            import sys
            kind = sys.stdin.read()
            if kind == 'spin':
                while True: pass
            elif kind == 'sleep':
                import time; time.sleep(30)
            elif kind == 'memory':
                x = []
                while True: x.append(bytearray(1 << 20))
            elif kind == 'flood':
                while True: sys.stdout.write('a' * 65536)
            elif kind == 'crash':
                raise ValueError('boom')
            print('ok')
            """
        let kinds = ["spin", "sleep", "memory", "flood", "crash", "fine"]
        let results = try run(source, kinds.map { WarmTest(stdin: Array($0.utf8)) },
                              limits: Limits(cpuTimeSeconds: 0.5, wallTimeSeconds: 1, memoryBytes: 64 << 20, maxStdoutBytes: 1 << 20))
        #expect(results.map(\.run.verdict) == [.timeLimitExceeded, .timeLimitExceeded, .memoryLimitExceeded,
                                               .outputLimitExceeded, .runtimeError, .ok])
        // A spinning test usually runs out of CPU first, but on a loaded machine the wall clock may
        // come first; a sleeping one can only run out of wall time.
        #expect(results[1].run.timeLimitClock == .wall && results[1].run.cpuMilliseconds < 300)
        #expect(results[5].run.stdoutText == "ok\n")
    }

    @Test func stopsAtTheFirstFailureWhenAsked() throws {
        let results = try run("import sys\nif sys.stdin.read() == 'bad': sys.exit(2)\nprint('ok')",
                              ["ok", "bad", "ok"].map { WarmTest(stdin: Array($0.utf8)) }, stop: true)
        #expect(results.map(\.run.verdict) == [.ok, .runtimeError])
        #expect(results[1].run.exitCode == 2)
    }

    @Test func aSyntaxErrorIsEachTestsRuntimeError() throws {
        let results = try run("def broken(:\n    pass", [WarmTest()])
        #expect(results[0].run.verdict == .runtimeError)
        #expect(results[0].run.stderrText.contains("SyntaxError"))
    }
}
