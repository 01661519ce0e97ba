import Glibc
import Sandboxing
import Testing

/// The ways a Python program runs: a fresh box (cold), a child of the submission's warm
/// harness (the graders' default), or a zygote box of its own with the box as its init
/// (`/run_code`'s default). Every case here runs through all three and must end the same way.
enum PythonExecutor: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case cold, warm, program
    var testDescription: String { rawValue }

    /// Runs `source` once per input, as the tests of one submission: warm in one box whose
    /// harness forks a child per test, cold in a fresh box per test.
    func run(_ source: String, inputs: [String], limits: Limits) throws -> [RunResult] {
        switch self {
        case .cold:
            return try inputs.map { input in
                try Equivalence.sandbox.run(source: source, profile: Hostile.python, stdin: Array(input.utf8), limits: limits)
            }
        case .warm:
            return try Equivalence.sandbox.runWarmPython(
                source: source, preamble: "", tests: inputs.map { WarmTest(stdin: Array($0.utf8)) }, limits: limits,
                profile: Hostile.python, stopAtFirstFailure: false
            ).map(\.run)
        case .program:
            return try inputs.map { input in
                try Equivalence.sandbox.runWarmPythonProgram(source: source, stdin: Array(input.utf8), limits: limits,
                                                             profile: Hostile.python, zygoteImports: "", zygotePrelude: "")
            }
        }
    }
}

/// One hostile Python program of `testdata/hostile/` with the verdict the hostile suite gives it.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var program: String
    var stdin = ""
    var limits: Limits
    var verdict: Verdict
    var clock: TimeLimitClock? = nil
    /// Compared between the executors when the program's output does not depend on the box's layout.
    var sameOutput = false
    var testDescription: String { stdin.isEmpty ? program : "\(program) \(stdin)" }
}

/// The equivalence suite's own sandbox (uids and state directory no other suite uses), so its
/// host checks and the hostile suite's never see each other's boxes while both run.
enum Equivalence {
    static let stateDirectory = "/run/assay-equivalence"
    static let sandbox: Sandbox = {
        do { return try Sandbox(configuration: .init(stateDirectory: stateDirectory, uidBase: 2_950_000)) } catch {
            fatalError("cannot create the sandbox for the equivalence suite: \(error)")
        }
    }()
}

/// Runs `body` and checks the host for anything the equivalence suite's boxes left.
func withEquivalenceHostWatch(sourceLocation: SourceLocation = #_sourceLocation, _ body: (HostWatch) throws -> Void) throws {
    try withHostWatch(sandbox: Equivalence.sandbox, stateDirectory: Equivalence.stateDirectory,
                      sourceLocation: sourceLocation, body)
}

/// Warm ≡ cold: the hostile programs, and each way a test could make the warm path more
/// lenient than a cold run or reach a later test, through both executors.
@Suite(.serialized, .enabled(if: Hostile.isRoot, "the sandbox needs root"))
struct WarmColdEquivalenceTests {
    static let hostile: [HostileCase] = [
        HostileCase(program: "fork_bomb.py", limits: Hostile.limits(processes: 32), verdict: .runtimeError),
        HostileCase(program: "thread_bomb.py", limits: Hostile.limits(processes: 32), verdict: .runtimeError),
        HostileCase(program: "spin.py", limits: Hostile.limits(cpu: 0.5), verdict: .timeLimitExceeded, clock: .cpu),
        HostileCase(program: "busy_clock.py", limits: Hostile.limits(cpu: 0.5), verdict: .timeLimitExceeded, clock: .cpu),
        HostileCase(program: "sleep_forever.py", stdin: "sleep", limits: Hostile.limits(cpu: 0.5, wall: 1),
                    verdict: .timeLimitExceeded, clock: .wall),
        HostileCase(program: "sleep_forever.py", stdin: "pause", limits: Hostile.limits(cpu: 0.5, wall: 1),
                    verdict: .timeLimitExceeded, clock: .wall),
        HostileCase(program: "sleep_forever.py", stdin: "select", limits: Hostile.limits(cpu: 0.5, wall: 1),
                    verdict: .timeLimitExceeded, clock: .wall),
        HostileCase(program: "python_mle.py", limits: Hostile.limits(memoryMiB: 64), verdict: .memoryLimitExceeded),
        HostileCase(program: "python_memoryerror.py", limits: Hostile.limits(memoryMiB: 64), verdict: .memoryLimitExceeded),
        HostileCase(program: "python_huge_alloc.py", limits: Hostile.limits(memoryMiB: 64), verdict: .memoryLimitExceeded),
        HostileCase(program: "stdout_flood.py", limits: Hostile.limits(stdout: 1 << 20), verdict: .outputLimitExceeded),
        HostileCase(program: "stderr_flood.py", limits: Hostile.limits(stderr: 64 << 10), verdict: .outputLimitExceeded),
        HostileCase(program: "both_flood.py", limits: Hostile.limits(stdout: 2 << 20, stderr: 64 << 10),
                    verdict: .outputLimitExceeded),
        HostileCase(program: "huge_file.py", limits: Hostile.limits(fileSize: 16 << 20), verdict: .runtimeError),
        HostileCase(program: "many_files.py", limits: Hostile.limits(inodes: 4096), verdict: .runtimeError),
        HostileCase(program: "rlimits.py", limits: Hostile.limits(), verdict: .ok, sameOutput: true),
        HostileCase(program: "escape_syscalls.py", limits: Hostile.limits(), verdict: .ok, sameOutput: true),
        HostileCase(program: "write_outside.py", limits: Hostile.limits(), verdict: .ok),
        HostileCase(program: "forge_status.py", limits: Hostile.limits(), verdict: .runtimeError),
        HostileCase(program: "kill_everything.py", limits: Hostile.limits(cpu: 2), verdict: .ok),
        HostileCase(program: "persist.py", stdin: "write", limits: Hostile.limits(), verdict: .ok),
    ]

    @Test(arguments: hostile)
    func hostileProgramsGetTheSameVerdictOnBothExecutors(_ c: HostileCase) throws {
        try withEquivalenceHostWatch { _ in
            let source = try Hostile.program(c.program)
            var outputs: [String] = []
            for executor in PythonExecutor.allCases {
                let r = try #require(try executor.run(source, inputs: [c.stdin], limits: c.limits).first)
                #expect(r.verdict == c.verdict, "\(executor): \(Hostile.describe(r))")
                if let clock = c.clock { #expect(r.timeLimitClock == clock, "\(executor): \(Hostile.describe(r))") }
                outputs.append(r.stdoutText)
            }
            if c.sameOutput { #expect(Set(outputs).count == 1, "\(outputs)") }
        }
    }

    // MARK: - Limits of each test: the cold path's, over all of the test's processes

    @Test(arguments: PythonExecutor.allCases)
    func touchingMoreThanTheMemoryLimitIsMemoryLimit(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // 120 MiB written under a 64 MiB limit: the warm harness's own headroom must not
            // lend the test any of it.
            let r = try executor.run("b = b'x' * (120 << 20)\nprint(len(b))", inputs: [""],
                                     limits: Hostile.limits(memoryMiB: 64))
            #expect(r.map(\.verdict) == [.memoryLimitExceeded], "\(r.map { Hostile.describe($0) })")
        }
    }

    @Test(arguments: PythonExecutor.allCases)
    func anUnreapedChildsCPUCountsTowardsTheLimit(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // SIGCHLD ignored: the kernel reaps the child itself, so its CPU never reaches the
            // parent's rusage. The parent waits for it (wait() blocks until it is gone), so the
            // child's 1.6 s happen whatever the load; the wall limit is far away.
            let source = """
                import os, signal, time
                signal.signal(signal.SIGCHLD, signal.SIG_IGN)
                if os.fork() == 0:
                    start = time.process_time()
                    while time.process_time() - start < 1.6:
                        pass
                    os._exit(0)
                try:
                    os.wait()
                except ChildProcessError:
                    pass
                print("done")
                """
            let r = try executor.run(source, inputs: [""], limits: Hostile.limits(cpu: 1, wall: 60))
            #expect(r.map(\.verdict) == [.timeLimitExceeded], "\(r.map { Hostile.describe($0) })")
            #expect(r.first?.timeLimitClock == .cpu)
        }
    }

    @Test(arguments: PythonExecutor.allCases)
    func killingItselfIsARuntimeErrorNotMemoryLimit(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            let r = try executor.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", inputs: [""],
                                     limits: Hostile.limits())
            #expect(r.map(\.verdict) == [.runtimeError], "\(r.map { Hostile.describe($0) })")
            #expect(r.first?.signal == SIGKILL)
        }
    }

    @Test(arguments: PythonExecutor.allCases)
    func aTestsProcessesCountAgainstItsOwnPidsLimit(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // 12 processes in all under a limit of 8: the ninth fork fails, as in a cold box.
            let source = """
                import os, time
                kids = []
                try:
                    for _ in range(11):
                        pid = os.fork()
                        if pid == 0:
                            time.sleep(30)
                            os._exit(0)
                        kids.append(pid)
                    print("forked all")
                except BlockingIOError:
                    print("refused after", len(kids))
                """
            let r = try executor.run(source, inputs: ["", ""], limits: Hostile.limits(cpu: 1, wall: 3, processes: 8))
            #expect(r.map(\.verdict) == [.ok, .ok], "\(r.map { Hostile.describe($0) })")
            #expect(r.map(\.stdoutText) == ["refused after 7\n", "refused after 7\n"])
        }
    }

    // MARK: - Nothing survives into the next test

    @Test(arguments: PythonExecutor.allCases)
    func filesLeftUnderReadOnlyDirectoriesAreGoneForTheNextTest(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            let source = """
                import os, sys
                if sys.stdin.read() == "write":
                    os.makedirs("/tmp/d")
                    open("/tmp/d/secret", "w").write("x")
                    os.chmod("/tmp/d", 0o500)
                    os.chdir("/work")
                    for _ in range(1500):  # deeper than any path the harness could name
                        os.mkdir("n")
                        os.chdir("n")
                    open("deep", "w").write("x")
                    os.chmod(".", 0)
                    os.chmod("/work", 0)
                    print("written")
                else:
                    print(sorted(os.listdir("/tmp")), sorted(os.listdir("/work")), os.path.exists("/tmp/d/secret"))
                """
            let r = try executor.run(source, inputs: ["write", "look"], limits: Hostile.limits())
            #expect(r.map(\.verdict) == [.ok, .ok], "\(r.map { Hostile.describe($0) })")
            #expect(r.map(\.stdoutText) == ["written\n", "[] [] False\n"])
        }
    }

    @Test(arguments: PythonExecutor.allCases)
    func priorityAndRlimitsOfOtherProcessesCannotBeChanged(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // Test 1 tries to renice and lower the limits of pid 1 (the warm harness, or the box
            // init) and of every process of its uid; test 2 must start as test 1 did.
            let source = """
                import os, resource, sys
                mine = (os.getpriority(os.PRIO_PROCESS, 0), resource.getrlimit(resource.RLIMIT_NOFILE))
                if sys.stdin.read() == "poke":
                    tries = [
                        lambda: os.setpriority(os.PRIO_PROCESS, 1, 19),
                        lambda: os.setpriority(os.PRIO_PGRP, 0, 19),
                        lambda: os.setpriority(os.PRIO_USER, os.getuid(), 19),
                        lambda: resource.prlimit(1, resource.RLIMIT_NOFILE, (16, 16)),
                        lambda: resource.prlimit(1, resource.RLIMIT_CPU, (1, 1)),
                        lambda: os.sched_setaffinity(1, {0}),
                    ]
                    refused = 0
                    for t in tries:
                        try:
                            t()
                        except OSError:
                            refused += 1
                    print("refused", refused, "of", len(tries))
                else:
                    print("start", mine)
                """
            let r = try executor.run(source, inputs: ["poke", "look"], limits: Hostile.limits())
            #expect(r.map(\.verdict) == [.ok, .ok], "\(r.map { Hostile.describe($0) })")
            #expect(r.first?.stdoutText == "refused 6 of 6\n", "\(r.map { Hostile.describe($0) })")
            #expect(r.last?.stdoutText == "start (0, (64, 64))\n", "\(r.map { Hostile.describe($0) })")
        }
    }

    @Test(arguments: PythonExecutor.allCases)
    func noTestHoldsAnotherTestsInputOrOutput(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // Test 2 scans every readable mapping of its own memory for test 1's input and
            // output and test 3's input. The pattern below cannot match its own text.
            let source = #"""
                import ctypes, re, sys
                data = sys.stdin.read()
                if data.startswith("MARK-IN-1-"):
                    print("MARK-OUT-1-" + data[len("MARK-IN-1-"):])
                elif data == "scan":
                    pattern = re.compile(rb"MARK-(IN|OUT)-[13]-[0-9a-f]{16}")
                    found = set()
                    for line in open("/proc/self/maps"):
                        fields = line.split()
                        if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                            continue
                        lo, hi = (int(x, 16) for x in fields[0].split("-"))
                        if hi - lo > 64 << 20:
                            continue
                        try:
                            found.update(m.group(0)[:9] for m in pattern.finditer(ctypes.string_at(lo, hi - lo)))
                        except Exception:
                            pass
                    print(sorted(found))
                """#
            let r = try executor.run(source, inputs: ["MARK-IN-1-0123456789abcdef", "scan", "MARK-IN-3-fedcba9876543210"],
                                     limits: Hostile.limits(memoryMiB: 256))
            #expect(r.map(\.verdict) == [.ok, .ok, .ok], "\(r.map { Hostile.describe($0) })")
            #expect(r[1].stdoutText == "[]\n", "\(r.map { Hostile.describe($0) })")
        }
    }

    // MARK: - Nothing a test writes can break its grading

    @Test(arguments: PythonExecutor.allCases)
    func garbageOnEveryDescriptorIsTheTestsOwnBusiness(_ executor: PythonExecutor) throws {
        try withEquivalenceHostWatch { _ in
            // Every descriptor number gets garbage (fd 3 a 16 MiB flood), stdout gets text that
            // looks like the harness's records: a verdict for each test, never a sandbox error.
            let source = """
                import os, sys
                chunk = b'{"index": 0, "done": true}\\n\\x00\\xff' * 4096
                for fd in range(3, 256):
                    sent = 0
                    try:
                        while sent < (16 << 20 if fd == 3 else 1 << 16):
                            sent += os.write(fd, chunk)
                    except OSError:
                        pass
                sys.stdout.write('{"ready": true}\\n{"error": "x"}\\n')
                print("ok")
                """
            let r = try executor.run(source, inputs: Array(repeating: "", count: 15), limits: Hostile.limits())
            #expect(r.map(\.verdict) == Array(repeating: .ok, count: 15), "\(r.map { Hostile.describe($0) })")
            #expect(r.allSatisfy { $0.stdoutText.hasSuffix("\"x\"}\nok\n") })
        }
    }
}
