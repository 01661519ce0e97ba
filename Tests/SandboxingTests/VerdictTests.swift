import Glibc
import Sandboxing
import Testing

/// Each verdict, produced by a real program in the real sandbox, with the numbers every result carries.
@Suite(.enabled(if: TestSupport.isRoot, "the sandbox needs root"))
struct VerdictTests {
    @Test func okCarriesOutputAndMeasurements() throws {
        let r = try TestSupport.python("import sys\nprint(sum(map(int, sys.stdin.read().split())))", stdin: "3 4 5")
        #expect(r.verdict == .ok)
        #expect(r.stdoutText == "12\n")
        #expect(r.exitCode == 0 && r.signal == nil)
        #expect(r.cpuMilliseconds > 0 && r.wallMilliseconds > 0 && r.memoryBytes > 0)
    }

    @Test func nonZeroExitIsRuntimeErrorWithItsCode() throws {
        let r = try TestSupport.python("import sys\nsys.exit(3)")
        #expect(r.verdict == .runtimeError)
        #expect(r.exitCode == 3)
    }

    @Test func uncaughtExceptionIsRuntimeErrorWithTraceback() throws {
        let r = try TestSupport.python("raise ValueError('boom')")
        #expect(r.verdict == .runtimeError)
        #expect(r.exitCode == 1)
        #expect(r.stderrText.contains("ValueError: boom"))
    }

    @Test func fatalSignalIsRuntimeErrorWithTheSignal() throws {
        let r = try TestSupport.cpp("int main(){ volatile int *p = nullptr; return *p; }")
        #expect(r.verdict == .runtimeError)
        #expect(r.signal == SIGSEGV)
    }

    @Test func spinningIsTimeLimitOnTheCPUClock() throws {
        // A wall limit far away, so a loaded machine (the spinner getting little of a core) still
        // ends this on the CPU clock.
        let r = try TestSupport.python("while True: pass", limits: Limits(cpuTimeSeconds: 0.5, wallTimeSeconds: 60))
        #expect(r.verdict == .timeLimitExceeded)
        #expect(r.timeLimitClock == .cpu)
        // The supervisor's poll of the cgroup's CPU killed it (SIGKILL), not the RLIMIT_CPU backstop
        // (SIGXCPU at 2 s of CPU, SIGKILL at 3 s): decided by the signal and by CPU time, which the
        // machine's load does not move, rather than by how soon after the limit the poll landed.
        #expect(r.signal == SIGKILL)
        #expect(r.cpuMilliseconds >= 500 && r.cpuMilliseconds < 2000)
    }

    @Test func sleepingIsTimeLimitOnTheWallClock() throws {
        let r = try TestSupport.python("import time\nprint('answer', flush=True)\ntime.sleep(30)",
                                       limits: Limits(cpuTimeSeconds: 0.5, wallTimeSeconds: 1))
        #expect(r.verdict == .timeLimitExceeded)
        #expect(r.timeLimitClock == .wall)
        #expect(r.cpuMilliseconds < 300)
        // Killed by the supervisor (SIGKILL; an unkilled sleep would exit 0 after 30 s), not before
        // the limit (load can only lengthen a run), and not by the pipe breaker 2 s after it.
        #expect(r.signal == SIGKILL)
        #expect(r.wallMilliseconds >= 1000 && r.wallMilliseconds < 3000)
        #expect(r.stdoutText == "answer\n")
    }

    @Test func cppMemoryBombIsMemoryLimit() throws {
        let r = try TestSupport.cpp("""
            #include <cstdlib>
            #include <cstring>
            int main(){ for(;;){ char *p = (char*)malloc(1 << 24); if(!p) return 3; memset(p, 1, 1 << 24); } }
            """, limits: Limits(memoryBytes: 64 << 20))
        #expect(r.verdict == .memoryLimitExceeded)
        #expect(r.memoryBytes >= 60 << 20)
    }

    @Test func pythonGrowingListIsMemoryLimitNotRuntimeError() throws {
        let r = try TestSupport.python("x = []\nwhile True: x.append(bytearray(1 << 20))", limits: Limits(memoryBytes: 64 << 20))
        #expect(r.verdict == .memoryLimitExceeded)
    }

    @Test func stdoutFloodIsOutputLimitAndBounded() throws {
        let r = try TestSupport.python("import sys\nwhile True: sys.stdout.write('a' * 65536)",
                                       limits: Limits(maxStdoutBytes: 1 << 20))
        #expect(r.verdict == .outputLimitExceeded)
        #expect(r.outputTruncated)
        #expect(r.stdout.count == 1 << 20)
    }

    @Test func stderrFloodIsOutputLimit() throws {
        let r = try TestSupport.python("import sys\nwhile True: sys.stderr.write('e' * 65536)",
                                       limits: Limits(maxStderrBytes: 64 << 10))
        #expect(r.verdict == .outputLimitExceeded)
        #expect(r.stderr.count == 64 << 10)
    }

    @Test func fileSizeLimitIsOutputLimit() throws {
        let r = try TestSupport.cpp("""
            #include <cstdio>
            int main(){ FILE *f = fopen("big", "w"); static char b[1 << 16]; for(;;) fwrite(b, 1, sizeof b, f); }
            """, limits: Limits(maxFileSizeBytes: 1 << 20))
        #expect(r.verdict == .outputLimitExceeded)
        #expect(r.signal == SIGXFSZ)
    }

    @Test func profileKillRuleIsDisallowedSyscall() throws {
        var profile = TestSupport.profile("python3")
        profile.seccomp = .init(kill: ["ptrace"])
        let r = try TestSupport.sandbox.run(
            source: "import ctypes\nctypes.CDLL(None).ptrace(0, 0, 0, 0)\nprint('survived')", profile: profile)
        #expect(r.verdict == .disallowedSyscall)
        #expect(r.signal == SIGSYS)
        #expect(r.stdoutText.isEmpty)
    }

    @Test func compileErrorCarriesTheCompilerOutput() throws {
        let r = try TestSupport.cpp("int main() { return undefined_name; }")
        #expect(r.verdict == .compileError)
        #expect(r.compileOutput?.contains("undefined_name") == true)
    }

    @Test func compiledBinaryIsCachedBySource() throws {
        let source = "#include <cstdio>\nint main(){ puts(\"cached \(UInt64.random(in: 0...UInt64.max))\"); }"
        let first = try TestSupport.sandbox.prepare(source: source, profile: TestSupport.profile("cpp"))
        let second = try TestSupport.sandbox.prepare(source: source, profile: TestSupport.profile("cpp"))
        #expect(!first.cached && first.compileRun?.verdict == .ok)
        #expect(second.cached && second.compileRun == nil)
        #expect(try TestSupport.sandbox.run(second).stdoutText.hasPrefix("cached "))
    }

    @Test func missingExecutableIsASandboxErrorNotAVerdict() throws {
        #expect {
            _ = try TestSupport.sandbox.run(command: ["/usr/bin/no-such-interpreter"])
        } throws: { error in
            let e = error as! SandboxError
            return e.code == .spawnFailed && e.stage == "exec" && e.errno == ENOENT
        }
    }

    @Test func theProcessLimitCountsTheProgramNotTheBoxInit() throws {
        let alone = try TestSupport.python("print('alone')", limits: Limits(maxProcesses: 1))
        #expect(alone.verdict == .ok)
        let forking = try TestSupport.python(
            "import os\ntry:\n    pid = os.fork()\n    print('forked')\n    os._exit(0) if pid == 0 else os.wait()\nexcept OSError:\n    print('refused')",
            limits: Limits(maxProcesses: 1))
        #expect(forking.stdoutText == "refused\n")
    }

    @Test func threadsStartDespiteTheClone3Rule() throws {
        // clone3 gets ENOSYS, so glibc falls back to clone(2); EPERM would break every thread.
        let r = try TestSupport.python("""
            import threading
            out = []
            ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]
            [t.start() for t in ts]; [t.join() for t in ts]
            print(sorted(out))
            """)
        #expect(r.verdict == .ok)
        #expect(r.stdoutText == "[0, 1, 2, 3, 4, 5, 6, 7]\n")
    }

    @Test func numpyImportsInsideTheBox() throws {
        let r = try TestSupport.python("import numpy as np\nprint(int(np.arange(10).sum()))")
        #expect(r.verdict == .ok, "\(r.stderrText)")
        #expect(r.stdoutText == "45\n")
    }

    @Test func aDaemonDoesNotOutliveItsRun() throws {
        // Double fork + setsid, then exec a sleep whose argument marks it on the host's /proc.
        let token = "61.\(UInt32.random(in: 1...UInt32.max))"
        let r = try TestSupport.python("""
            import os
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv('/usr/bin/sleep', ['sleep', '\(token)'])
                os._exit(0)
            print('parent done')
            """)
        #expect(r.verdict == .ok && r.stdoutText == "parent done\n")
        #expect(TestSupport.processes(containing: token).isEmpty)
    }
}
