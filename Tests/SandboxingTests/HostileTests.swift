import Foundation
import Glibc
import Sandboxing
import Synchronization
import Testing

/// The hostile-program suite: every class of `sandbox-anchors.md` §6 that applies to a program
/// runner, each with its exact verdict and a check of the host afterwards (no process of a box
/// uid alive, no box tmpfs mounted, sentinels unchanged, no connection reached the listeners).
/// Programs live in `testdata/hostile/`; README.md there maps each to its verdict and source.
@Suite(.serialized, .enabled(if: Hostile.isRoot, "the sandbox needs root"))
struct HostileTests {
    // MARK: - Process bombs

    @Test func pythonForkBombIsRuntimeErrorAndLeavesNothing() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("fork_bomb.py", limits: Hostile.limits(processes: 32))
            // The pids cgroup refuses the 33rd task: os.fork() raises BlockingIOError in the main
            // process, which exits 1 and takes the namespace down with it.
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.exitCode == 1, Hostile.describe(r))
            #expect(r.stderrText.contains("BlockingIOError"), Hostile.describe(r))
            // No fork survives the run: verify() finds no process of a box uid. (The host's total
            // task count is no measure here: the suites running beside this one move it by hundreds.)
        }
    }

    @Test func shellForkBombIsTimeLimitAndTheHostCanStillFork() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("fork_bomb.sh", limits: Hostile.limits(cpu: 1, processes: 32))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            // The daemon can still fork, and a fresh box works.
            let after = try Hostile.sandbox.run(command: ["/usr/bin/true"], limits: Hostile.limits())
            #expect(after.verdict == .ok)
        }
    }

    @Test func threadBombStopsAtThePidsLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("thread_bomb.py", limits: Hostile.limits(processes: 32))
            // Python's "can't start new thread" is a RuntimeError: RE at the pids limit.
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.stderrText.contains("can't start new thread"), Hostile.describe(r))
            #expect(!r.stdoutText.contains("started all"))
        }
    }

    @Test func childSpinningCountsTowardsTheCPULimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("fork_child_spin.cpp", limits: Hostile.limits(cpu: 0.5))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .cpu, Hostile.describe(r))
        }
    }

    @Test func childSleepingEndsByTheWallClock() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("fork_child_sleep.cpp", limits: Hostile.limits(cpu: 0.5, wall: 1))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .wall, Hostile.describe(r))
            #expect(r.signal == SIGKILL && r.wallMilliseconds >= 1000 && r.wallMilliseconds < 3000, Hostile.describe(r))  // the supervisor's wall kill, not the pipe breaker 2 s after the limit (load only lengthens a run)
        }
    }

    @Test func daemonThatOutlivesMainIsKilledWithTheRun() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("daemon.cpp", limits: Hostile.limits(cpu: 1, wall: 5))
            // The verdict is main's: it exited 0. The daemon died with main (pid namespace init
            // exit) before run() returned, so its later writes never appear.
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == "main done\n", Hostile.describe(r))
            #expect(r.timeLimitClock == nil && r.exitCode == 0, Hostile.describe(r))  // ended when main did: not by the 5 s wall limit, nor the pipe breaker after it (a live daemon's LATE lines would show in stdout)
            // Give a surviving daemon time to show itself on the host (verify() looks too).
            usleep(300_000)
            #expect(Hostile.boxProcesses().isEmpty)
        }
    }

    @Test func thousandUnreapedChildrenLeaveNoZombies() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("zombies.cpp", limits: Hostile.limits(processes: 32))
            #expect(r.verdict == .ok, Hostile.describe(r))
            // Zombies hold their pid until reaped: the limit counts the program and its processes
            // (the box's init has a slot of its own), so 31 children fit beside main.
            #expect(r.stdoutText == "made 31 refused 969\n", Hostile.describe(r))
        }
    }

    // MARK: - Signals

    @Test func killingParentInitAndEverythingTouchesOnlyTheBox() throws {
        try withHostWatch { _ in
            // A second box runs alongside: kill(-1) in the first must not reach it.
            let neighbour = Background {
                try? Hostile.sandbox.run(command: ["/usr/bin/sleep", "1.5"], limits: Hostile.limits(cpu: 1, wall: 4))
            }
            usleep(200_000)
            // A host process with the very uid the next box will get (the slot just released is
            // handed out again): only the pid namespace stands between it and kill(-1).
            let probe = try Hostile.sandbox.run(command: ["/usr/bin/id", "-u"], limits: Hostile.limits())
            let boxUid = try #require(UInt32(probe.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
            let canary = try Hostile.startCanary(uid: boxUid)
            defer { kill(canary.processIdentifier, SIGKILL); canary.waitUntilExit() }
            let r = try Hostile.run("kill_everything.py", limits: Hostile.limits(cpu: 2))
            #expect(r.verdict == .ok, Hostile.describe(r))
            let lines = r.stdoutText.split(separator: "\n").map(String.init)
            #expect(lines == [
                "uid \(boxUid)", "ppid-inside-box True", "after-sigxcpu-to-ppid alive", "child-kill-1 sent", "init survived",
                "visible-foreign-pids 0", "own child killed True", "done",
            ], Hostile.describe(r))
            let n = try #require(neighbour.join())
            #expect(n.verdict == .ok && n.signal == nil, Hostile.describe(n))
            #expect(canary.isRunning, "the same-uid host process was killed from inside the box")
            let status = (try? String(contentsOfFile: "/proc/\(canary.processIdentifier)/status", encoding: .utf8)) ?? ""
            #expect(status.contains("State:\tS"), "canary state: \(status.prefix(200))")
        }
    }

    @Test func shellKillOfPidOneIsIgnored() throws {
        // go-judge sanity "Signal Check": `kill -SIGINT 1` -> Accepted.
        try withHostWatch { _ in
            let r = try Hostile.sandbox.run(command: ["/bin/sh", "-c", "kill -INT 1; kill -TERM 1; kill -KILL 1; echo alive"],
                                            limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == "alive\n", Hostile.describe(r))
        }
    }

    @Test func ptraceIsDeniedWithEPERM() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("ptrace.cpp", limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == """
                attach-child EPERM
                seize-child EPERM
                attach-init EPERM
                traceme EPERM
                process_vm_readv EPERM

                """, Hostile.describe(r))
        }
    }

    @Test func ptraceWithAKillRuleIsDisallowedSyscall() throws {
        try withHostWatch { _ in
            var profile = Hostile.cpp
            profile.seccomp = .init(kill: ["ptrace"])
            let r = try Hostile.run("ptrace.cpp", limits: Hostile.limits(), profile: profile)
            #expect(r.verdict == .disallowedSyscall, Hostile.describe(r))
            #expect(r.signal == SIGSYS, Hostile.describe(r))
        }
    }

    @Test func stoppedProcessesEndByTheWallClockAndAreReaped() throws {
        try withHostWatch { _ in
            for mode in ["self", "children"] {
                let r = try Hostile.run("sigstop.py", stdin: mode, limits: Hostile.limits(cpu: 0.5, wall: 1))
                #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
                #expect(r.timeLimitClock == .wall, Hostile.describe(r))
                #expect(r.stdoutText == "answer\n", Hostile.describe(r))
                #expect(r.cpuMilliseconds < 300, Hostile.describe(r))
                #expect(r.signal == SIGKILL && r.wallMilliseconds >= 1000 && r.wallMilliseconds < 3000, Hostile.describe(r))  // the supervisor's wall kill, not the pipe breaker 2 s after the limit
            }
        }
    }

    @Test func ignoringSIGXCPUStillEndsByTheCPULimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("ignore_sigxcpu.cpp", limits: Hostile.limits(cpu: 0.5))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .cpu, Hostile.describe(r))
            #expect(r.signal == SIGKILL, Hostile.describe(r))
            #expect(r.cpuMilliseconds < 2000, Hostile.describe(r))  // the supervisor's kill, not RLIMIT_CPU's (SIGKILL at 3 s of CPU): box CPU, which load does not move
        }
    }

    // MARK: - Time

    @Test func spinningIsTimeLimitByCPU() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("spin.py", limits: Hostile.limits(cpu: 0.5))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .cpu, Hostile.describe(r))
            #expect(r.stdoutText == "answer\n")
        }
    }

    @Test(arguments: ["sleep", "pause", "select"])
    func blockingForeverIsTimeLimitByWallWithNoCPU(mode: String) throws {
        try withHostWatch { _ in
            let r = try Hostile.run("sleep_forever.py", stdin: mode, limits: Hostile.limits(cpu: 0.5, wall: 1))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .wall, Hostile.describe(r))
            #expect(r.cpuMilliseconds < 300, Hostile.describe(r))
            #expect(r.signal == SIGKILL && r.wallMilliseconds >= 1000 && r.wallMilliseconds < 3000, Hostile.describe(r))  // killed by the supervisor at the limit, not by the pipe breaker 2 s after it
            #expect(r.stdoutText == "answer\n")
        }
    }

    @Test func busyWaitingOnTheClockIsTimeLimitByCPU() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("busy_clock.py", limits: Hostile.limits(cpu: 0.5))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .cpu, Hostile.describe(r))
        }
    }

    @Test func manyThreadsSpinningAreTimeLimitBySummedCPU() throws {
        try withHostWatch { _ in
            // The wall limit is far off: only the CPU summed over the threads can stop it.
            let r = try Hostile.run("threads_spin.cpp", limits: Hostile.limits(cpu: 0.5, wall: 10))
            #expect(r.verdict == .timeLimitExceeded, Hostile.describe(r))
            #expect(r.timeLimitClock == .cpu, Hostile.describe(r))
        }
    }

    @Test func raisingRlimitsIsRefusedAndLeavesThemUnchanged() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("rlimits.py", limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == """
                RLIMIT_CPU EPERM unchanged
                RLIMIT_AS unlimited-already True
                RLIMIT_NPROC EPERM unchanged
                RLIMIT_FSIZE EPERM unchanged
                RLIMIT_NOFILE EPERM unchanged
                RLIMIT_STACK EPERM unchanged
                RLIMIT_CORE EPERM unchanged
                prlimit-init EPERM
                prlimit-parent EPERM
                final-cpu (2, 3)

                """, Hostile.describe(r))
        }
    }

    // MARK: - Memory

    @Test func cppMemoryBombIsMemoryLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("memory_bomb.cpp", stdin: "80", limits: Hostile.limits(memoryMiB: 64))
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
            #expect(r.signal == SIGKILL, Hostile.describe(r))
            #expect(r.memoryBytes <= 66 << 20, Hostile.describe(r))
            // 256 MB under the same limit: malloc succeeds (the cgroup limits use, not address
            // space), the memset is OOM-killed.
            let big = try Hostile.run("memory_bomb.cpp", stdin: "256", limits: Hostile.limits(memoryMiB: 64))
            #expect(big.verdict == .memoryLimitExceeded, Hostile.describe(big))
        }
    }

    @Test func staticArrayTouchedIsMemoryLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("static_array.cpp", limits: Hostile.limits(memoryMiB: 64))
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
        }
    }

    @Test func pythonGrowingListIsMemoryLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("python_mle.py", limits: Hostile.limits(memoryMiB: 64))
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
        }
    }

    @Test func pythonMemoryErrorIsMemoryLimitNotRuntimeError() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("python_memoryerror.py", limits: Hostile.limits(memoryMiB: 64))
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
        }
    }

    @Test func pythonAllocationBeyondTheLimitIsMemoryLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("python_huge_alloc.py", limits: Hostile.limits(memoryMiB: 64))
            #expect(r.stderrText.contains("MemoryError"), Hostile.describe(r))
            // malloc(16 TiB) is refused by the kernel's overcommit check before the cgroup is
            // charged (failcnt stays 0); the profile's out-of-memory marker makes it MLE.
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
        }
    }

    @Test func hugeNoReserveMappingIsFreeUntilTouched() throws {
        try withHostWatch { _ in
            let untouched = try Hostile.run("mmap_noreserve.cpp", stdin: "", limits: Hostile.limits(memoryMiB: 64))
            #expect(untouched.verdict == .ok, Hostile.describe(untouched))
            #expect(untouched.stdoutText == "mapped\n")
            let touched = try Hostile.run("mmap_noreserve.cpp", stdin: "touch", limits: Hostile.limits(memoryMiB: 64))
            #expect(touched.verdict == .memoryLimitExceeded, Hostile.describe(touched))
            #expect(touched.memoryBytes <= 66 << 20, Hostile.describe(touched))
        }
    }

    @Test func deepRecursionIsRuntimeErrorNotMemoryLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("deep_recursion.cpp", limits: Hostile.limits(memoryMiB: 256))
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.signal == SIGSEGV, Hostile.describe(r))
            let stack = try Hostile.run("ulimit_stack.sh", limits: Hostile.limits())
            #expect(stack.stdoutText == "\(Hostile.limits().stackBytes >> 10)\n", Hostile.describe(stack))
        }
    }

    // MARK: - Output and files

    /// The host's memory bound is checked on the real binary (`OutputFloodMemoryTests`): this
    /// process hosts every suite at once, so its own resident set measures nothing.
    @Test func stdoutFloodIsOutputLimitWithBoundedHostMemory() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("stdout_flood.py", limits: Hostile.limits(stdout: 1 << 20))
            #expect(r.verdict == .outputLimitExceeded, Hostile.describe(r))
            #expect(r.stdout.count == 1 << 20)
            #expect(r.outputTruncated)
            #expect(r.timeLimitClock == nil && r.cpuMilliseconds < 1000, Hostile.describe(r))  // ended by the cap, before the 1 s CPU limit (box CPU, not wall)
            let yes = try Hostile.sandbox.run(command: ["/usr/bin/yes"], limits: Hostile.limits(stdout: 1 << 20))
            #expect(yes.verdict == .outputLimitExceeded, Hostile.describe(yes))
            #expect(yes.stdout.count == 1 << 20)
        }
    }

    @Test func stderrFloodWithQuietStdoutIsOutputLimit() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("stderr_flood.py", limits: Hostile.limits(stderr: 64 << 10))
            #expect(r.verdict == .outputLimitExceeded, Hostile.describe(r))
            #expect(r.stdoutText == "quiet\n")
            #expect(r.stderr.count == 64 << 10)
            #expect(r.timeLimitClock == nil && r.cpuMilliseconds < 1000, Hostile.describe(r))  // ended by the cap, before the 1 s CPU limit (box CPU, not wall)
        }
    }

    @Test func fullStdoutPipeThenStderrFloodDoesNotDeadlock() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("both_flood.py", limits: Hostile.limits(stdout: 2 << 20, stderr: 64 << 10))
            #expect(r.verdict == .outputLimitExceeded, Hostile.describe(r))
            #expect(r.stdout.count == 1 << 20)
            #expect(r.stderr.count == 64 << 10)
            #expect(r.timeLimitClock == nil && r.cpuMilliseconds < 1000, Hostile.describe(r))  // ended by the cap, before the 1 s CPU limit (box CPU, not wall)
        }
    }

    @Test func hugeFileIsStoppedByTheFileSizeLimit() throws {
        try withHostWatch { _ in
            // CPython ignores SIGXFSZ, so write() fails with EFBIG: an uncaught OSError, RE.
            let r = try Hostile.run("huge_file.py", limits: Hostile.limits(fileSize: 16 << 20))
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.stderrText.contains("File too large"), Hostile.describe(r))
        }
    }

    @Test func sparseFileAtTwoGigabytesIsOutputLimit() throws {
        try withHostWatch { _ in
            // C++ keeps SIGXFSZ's default action: the kernel kills it, and that is OLE.
            let r = try Hostile.run("sparse_file.cpp", limits: Hostile.limits(fileSize: 16 << 20))
            #expect(r.verdict == .outputLimitExceeded, Hostile.describe(r))
            #expect(r.signal == SIGXFSZ, Hostile.describe(r))
        }
    }

    @Test func fillingTmpAndShmStopsAtTheTmpfsCapAndTheNextRunIsClean() throws {
        try withHostWatch { _ in
            let shmBefore = Hostile.names(in: "/dev/shm")
            let r = try Hostile.run("fill_tmpfs.sh", limits: Hostile.limits(memoryMiB: 256, workDir: 32 << 20))
            // /dev/shm and /tmp share one 32 MiB tmpfs: 4 files of 8 MiB fill it, the 5th gets
            // ENOSPC, then /tmp is full at once and the script exits 3.
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.exitCode == 3, Hostile.describe(r))
            #expect(r.stdoutText.contains("shm full at 3") || r.stdoutText.contains("shm full at 4"), Hostile.describe(r))
            #expect(r.stdoutText.contains("tmp full at 0"), Hostile.describe(r))
            #expect(r.stderrText.contains("No space left on device"), Hostile.describe(r))
            let next = try Hostile.sandbox.run(command: ["/bin/sh", "-c", "ls -A /tmp /dev/shm /work; df -k /tmp | tail -1"],
                                               limits: Hostile.limits())
            #expect(next.verdict == .ok)
            #expect(next.stdoutText.hasPrefix("/dev/shm:\n\n/tmp:\n\n/work:\n"), Hostile.describe(next))
            #expect(Hostile.names(in: "/dev/shm").subtracting(shmBefore).filter { $0.hasPrefix("fill") }.isEmpty)
        }
    }

    @Test func fillingTmpfsUnderATighterMemoryLimitIsMemoryLimit() throws {
        try withHostWatch { _ in
            // tmpfs pages are charged to the box's memory cgroup: with 48 MiB of memory and a 64 MiB
            // tmpfs the cgroup gives out first.
            let r = try Hostile.run("fill_tmpfs.sh", limits: Hostile.limits(memoryMiB: 48, workDir: 64 << 20))
            #expect(r.verdict == .memoryLimitExceeded, Hostile.describe(r))
        }
    }

    @Test func manyFilesHitTheInodeCapAndTheNextRunIsClean() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("many_files.py", limits: Hostile.limits(inodes: 4096))
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.stderrText.contains("No space left on device"), Hostile.describe(r))
            let next = try Hostile.run("many_files.py", stdin: "count", limits: Hostile.limits())
            #expect(next.verdict == .ok)
            #expect(next.stdoutText == "work 0 tmp 0\n", Hostile.describe(next))
        }
    }

    @Test func namespaceEscapesAndCrossBoxChannelsAreDenied() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("escape_syscalls.py", limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == """
                unshare-user EPERM
                unshare-net EPERM
                clone-newuser EPERM
                setns EPERM
                mount EPERM
                chroot EPERM
                pivot_root EPERM
                keyctl EPERM
                add_key EPERM
                io_uring_setup EPERM
                bpf EPERM
                perf_event_open EPERM
                userfaultfd EPERM
                open_by_handle_at EPERM
                kexec_load EPERM
                init_module EPERM
                settimeofday EPERM
                syslog EPERM
                flock EPERM
                fcntl-lock EPERM
                execveat EPERM
                clone3 ENOSYS
                thread ran

                """, Hostile.describe(r))
        }
    }

    // MARK: - Host files, writes, links

    @Test func hostFilesAreInvisibleAndTheBoxSeesOnlyItself() throws {
        try withHostWatch { watch in
            setenv("ASSAY_HOSTILE_SECRET", watch.secret, 1)
            defer { unsetenv("ASSAY_HOSTILE_SECRET") }
            let r = try Hostile.run("read_host_files.py", stdin: watch.sentinels.joined(separator: "\n"),
                                    limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(!r.stdoutText.contains(watch.secret))
            let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any], Hostile.describe(r))
            // Nothing outside the box could be read, directly or through a link planted in /work.
            let read = try #require(report["read"] as? [String: String])
            #expect(read.isEmpty, "read from the box: \(read.keys.sorted())")
            let errors = try #require(report["errors"] as? [String: String])
            for path in watch.sentinels {
                #expect(errors[path] == "No such file or directory", "\(path): \(errors[path] ?? "read")")
            }
            #expect(errors["/etc/shadow"] == "No such file or directory")
            #expect(errors["/proc/1/root/etc/shadow"] == "Permission denied")
            // /proc lists only the box: its init and the program.
            let pids = try #require(report["pids"] as? [Int])
            #expect(pids == [1, 2] || pids == [1], "pids: \(pids)")
            let environ = try #require(report["environ"] as? [String])
            #expect(environ.map { String($0.prefix(while: { $0 != "=" })) } == [
                "HOME", "LANG", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PATH",
                "PYTHONIOENCODING", "TMPDIR",
            ], "environ: \(environ)")
            let etc = try #require(report["etc"] as? [String])
            #expect(!etc.contains("shadow") && !etc.contains("gshadow") && !etc.contains("ssh"), "etc: \(etc)")
            let root = try #require(report["root"] as? [String])
            #expect(!root.contains("root") && !root.contains("run") && !root.contains("sys") && !root.contains("home"), "/: \(root)")
            let uid = try #require(report["uid"] as? Int)
            #expect(uid >= Int(Hostile.uidBase), "uid \(uid)")
            let caps = try #require(report["caps"] as? [String])
            #expect(caps.count == 5 && caps.allSatisfy { $0.hasSuffix("0000000000000000") }, "caps: \(caps)")
            let mounts = Set(try #require(report["mounts"] as? [String]))
            #expect(mounts.isSubset(of: Hostile.boxMountPoints), "unexpected mounts: \(mounts.subtracting(Hostile.boxMountPoints))")
        }
    }

    @Test func writingOutsideTheWorkDirIsRefused() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("write_outside.py", limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(!r.stdoutText.contains("WRITTEN") && !r.stdoutText.contains("DONE") && !r.stdoutText.contains("RAN"),
                    Hostile.describe(r))
            #expect(r.stdoutText == Hostile.expectedWriteOutside, Hostile.describe(r))
        }
    }

    @Test func forgedResultsDoNotChangeTheVerdict() throws {
        try withHostWatch { _ in
            let r = try Hostile.run("forge_status.py", limits: Hostile.limits())
            #expect(r.verdict == .runtimeError, Hostile.describe(r))
            #expect(r.signal == SIGSEGV, Hostile.describe(r))
            #expect(!r.stdoutText.contains("WRITTEN"), Hostile.describe(r))
        }
    }

    @Test(arguments: ["abs-symlink", "rel-symlink", "proc-symlink", "dev-zero", "dev-urandom", "fifo", "directory", "too-big"])
    func resultFileThatIsNotARegularFileIsNotCollected(mode: String) throws {
        try withHostWatch { watch in
            let program = try Hostile.sandbox.prepare(source: try Hostile.program("result_file_tricks.py"), profile: Hostile.python)
            let started = Date()
            let (r, collected) = try Hostile.sandbox.run(program, stdin: Array("\(mode) \(watch.sentinels[0])".utf8),
                                                         limits: Hostile.limits(), collect: "result",
                                                         collectLimitBytes: 1 << 20)
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == "planted \(mode)\n", Hostile.describe(r))
            #expect(collected == nil, "collected \(collected?.count ?? 0) bytes: \(String(decoding: (collected ?? []).prefix(80), as: UTF8.self))")
            #expect(Date().timeIntervalSince(started) - r.wallMilliseconds / 1000 < 10, "the host blocked reading the result")  // the host's own part only; a read that blocks for good hangs the test instead
        }
    }

    @Test func plainResultFileIsCollected() throws {
        // The control for the test above: the same path works when it is a regular file.
        let program = try Hostile.sandbox.prepare(source: try Hostile.program("result_file_tricks.py"), profile: Hostile.python)
        let (r, collected) = try Hostile.sandbox.run(program, stdin: Array("plain".utf8), limits: Hostile.limits(),
                                                     collect: "result", collectLimitBytes: 1 << 20)
        #expect(r.verdict == .ok, Hostile.describe(r))
        #expect(collected.map { String(decoding: $0, as: UTF8.self) } == "plain result")
    }

    @Test(arguments: ["mkfifo /work/main", "ln -s /etc/passwd /work/main", "ln -s /dev/zero /work/main", "mkdir /work/main"])
    func compileArtefactThatIsNotARegularFileIsRefused(script: String) throws {
        // A compile step that leaves something other than a regular file where the artefact
        // should be. g++ cannot be made to do this by a submission, so the step is a profile's
        // own command; the host must neither block on the FIFO nor follow the link. A compiler
        // that leaves no usable artefact is a broken profile: prepare throws artefactUnavailable.
        try withHostWatch { _ in
            let profile = try Hostile.artefactTrickProfile(script)
            let started = Date()
            #expect {
                _ = try Hostile.sandbox.prepare(source: "int main() {}", profile: profile)
            } throws: { error in
                (error as? SandboxError)?.code == .artefactUnavailable
            }
            #expect(Date().timeIntervalSince(started) < 3, "the host blocked reading the artefact")
        }
    }

    @Test func compileTimeIncludeOfHostFilesIsACompileErrorWithoutTheirContents() throws {
        try withHostWatch { watch in
            for path in [watch.sentinels[0], watch.sentinels[1], "/etc/shadow"] {
                let program = try Hostile.sandbox.prepare(source: "#include \"\(path)\"\nint main() {}\n", profile: Hostile.cpp)
                let failure = try #require(program.compileFailure)
                #expect(failure.verdict == .compileError)
                let text = failure.compileOutput ?? ""
                #expect(text.contains("No such file or directory"), "\(path): \(text)")
                #expect(!text.contains(watch.secret))
            }
        }
    }

    @Test(arguments: ["compile_read_urandom.cpp", "compile_macro_bomb.cpp"])
    func compilerBombsAreCompileErrorsWithinTheCompileBudget(name: String) throws {
        try withHostWatch { _ in
            // Memory low and CPU ample, so that the verdict cannot depend on the machine's speed:
            // reading /dev/urandom costs CPU, and on a busy machine 1 s of it ran out at 253 of
            // 256 MiB (TLE instead of MLE).
            var profile = Hostile.cpp
            profile.compile?.limits = Hostile.limits(cpu: 3, wall: 4, memoryMiB: 128, processes: 16, stdout: 64 << 10)
            let started = Date()
            let program = try Hostile.sandbox.prepare(source: try Hostile.program(name), profile: profile)
            let failure = try #require(program.compileFailure)
            #expect(failure.verdict == .compileError)
            let run = try #require(program.compileRun)
            #expect(run.verdict == Hostile.expectedCompilerBombVerdict[name], Hostile.describe(run))
            #expect(failure.compileOutput?.contains("[compiler stopped: \(run.verdict.rawValue)") == true,
                    "\(failure.compileOutput ?? "")")
            #expect(Date().timeIntervalSince(started) < 6)
        }
    }

    // MARK: - Network

    @Test func noNetworkReachesTheHost() throws {
        try withHostWatch { watch in
            let r = try Hostile.run("network.py", stdin: "\(watch.tcpPort) \(watch.abstractName)", limits: Hostile.limits())
            #expect(r.verdict == .ok, Hostile.describe(r))
            #expect(r.stdoutText == """
                tcp-host-listener EAFNOSUPPORT
                tcp6-host-listener EAFNOSUPPORT
                internet EAFNOSUPPORT
                metadata EAFNOSUPPORT
                udp EAFNOSUPPORT
                netlink EAFNOSUPPORT
                packet EAFNOSUPPORT
                vsock EAFNOSUPPORT
                bind-loopback EAFNOSUPPORT
                abstract-host-listener ECONNREFUSED

                """, Hostile.describe(r))
            // verify() also checks that neither listener saw a connection.
        }
    }

    // MARK: - State between runs, concurrent runs

    @Test func nothingPersistsBetweenRuns() throws {
        try withHostWatch { _ in
            let hostTmp = Hostile.names(in: "/tmp"), hostShm = Hostile.names(in: "/dev/shm")
            let write = try Hostile.run("persist.py", stdin: "write", limits: Hostile.limits())
            #expect(write.verdict == .ok, Hostile.describe(write))
            #expect(write.stdoutText.contains("wrote /tmp/persist") && write.stdoutText.contains("wrote /dev/shm/persist")
                    && write.stdoutText.contains("wrote /work/persist") && write.stdoutText.contains("shmget 0 OK"),
                    Hostile.describe(write))
            for _ in 0..<3 {
                let look = try Hostile.run("persist.py", stdin: "look", limits: Hostile.limits())
                #expect(look.verdict == .ok, Hostile.describe(look))
                #expect(look.stdoutText == "found []\n", Hostile.describe(look))
            }
            // Nothing landed in the host's /tmp or /dev/shm, and the host has no segment with the key.
            #expect(Hostile.names(in: "/tmp").subtracting(hostTmp).filter { $0.contains("persist") }.isEmpty)
            #expect(Hostile.names(in: "/dev/shm").subtracting(hostShm).filter { $0.contains("persist") }.isEmpty)
            let sysv = (try? String(contentsOfFile: "/proc/sysvipc/shm", encoding: .utf8)) ?? ""
            #expect(!sysv.contains(String(0x5A5A1234)), "the box's SysV segment is visible on the host")
        }
    }

    /// Each run writes the compiled binary into its box and executes it there, while the other
    /// threads spawn boxes of their own. A child cloned while a binary was open for writing
    /// would make that exec fail with ETXTBSY, a sandbox error (see SpawnFence); none may.
    /// (Without the fence about one run in 4000 failed here, so this passed 37% of the time without it: SpawnFenceTests decides.)
    @Test func compiledBinariesRunWhileOtherBoxesSpawn() throws {
        try withHostWatch { _ in
            let program = try Hostile.sandbox.prepare(source: "int main() { return 0; }\n", profile: Hostile.cpp)
            let errors = Shared<[String]>([])
            let verdicts = Shared<[Verdict: Int]>([:])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                for _ in 0..<1000 {
                    do {
                        let r = try Hostile.sandbox.run(program, limits: Hostile.limits(cpu: 1, wall: 5))
                        verdicts.withLock { $0[r.verdict, default: 0] += 1 }
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(errors.value.isEmpty, "\(errors.value.count) runs failed, first: \(errors.value.first ?? "")")
            #expect(verdicts.value == [.ok: 4000 - errors.value.count])
        }
    }

    @Test func concurrentRunsDoNotSeeEachOther() throws {
        try withHostWatch { _ in
            let source = try Hostile.program("concurrent.py")
            let results = Shared<[String: RunResult]>([:])
            let errors = Shared<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                for round in 0..<3 {
                    let token = "w\(worker)r\(round)"
                    do {
                        let r = try Hostile.sandbox.run(source: source, profile: Hostile.python, stdin: Array(token.utf8),
                                                        limits: Hostile.limits(cpu: 2, wall: 10))
                        results.withLock { $0[token] = r }
                    } catch {
                        errors.withLock { $0.append("\(token): \(error)") }
                    }
                }
            }
            #expect(errors.value.isEmpty, "\(errors.value)")
            let all = results.value
            #expect(all.count == 24)
            for (token, r) in all.sorted(by: { $0.key < $1.key }) {
                #expect(r.verdict == .ok, Hostile.describe(r))
                let lines = r.stdoutText.split(separator: "\n").map(String.init)
                #expect(lines.count == 4, Hostile.describe(r))
                guard lines.count == 4 else { continue }
                #expect(lines[0] == token, "\(token) saw tokens: \(lines[0])")
                #expect(lines[1] == "bound", "\(token): \(lines[1])")
                #expect(lines[2] == "shm ok", "\(token): \(lines[2])")
                #expect(lines[3] == "pids [1, 2]" || lines[3] == "pids [1]", "\(token): \(lines[3])")
            }
        }
    }
}
