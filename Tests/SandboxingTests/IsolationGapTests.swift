import CSandbox
import Foundation
import Glibc
@testable import Sandboxing
import Testing

/// The sandbox gaps of issue 9 §2, each closed by a change that this suite's test failed without.
///
/// The suite has a sandbox of its own (state directory and uid base no other suite uses): one
/// test mounts a filesystem inside its template /etc, which no other suite's box must see.
enum Gaps {
    static let stateDirectory = "/run/assay-isolation-gaps"
    static let uidBase: uid_t = 3_100_000

    static let sandbox: Sandbox = {
        do {
            return try Sandbox(configuration: .init(stateDirectory: stateDirectory, uidBase: uidBase))
        } catch {
            fatalError("cannot create the sandbox for the isolation-gap suite: \(error)")
        }
    }()

    /// The block of uids the suite's sandbox holds (`block-<k>` names its state and cgroups).
    static var block: Int { Int(sandbox.uidRange.lowerBound) / UidBlocks.blockSize }

    /// Runs `testdata/hostile/<name>`: .py with the python3 profile, .sh as `/bin/sh /app/<name>`.
    static func run(_ name: String, stdin: String = "", limits: Limits = Hostile.limits()) throws -> RunResult {
        let source = try Hostile.program(name)
        if name.hasSuffix(".sh") {
            return try sandbox.run(command: ["/bin/sh", "/app/" + name],
                                   files: [BoxFile(name: name, contents: Array(source.utf8))],
                                   stdin: Array(stdin.utf8), limits: limits)
        }
        return try sandbox.run(source: source, profile: Hostile.python, stdin: Array(stdin.utf8), limits: limits)
    }
}

@Suite(.serialized, .enabled(if: Hostile.isRoot, "the sandbox needs root"))
struct IsolationGapTests {
    // MARK: - Seccomp

    @Test func seccompClosesLockQueriesNotifyAndOtherProcessesAndComparesCommandsAs32Bits() throws {
        let r = try Gaps.run("seccomp_gaps.py")
        #expect(r.verdict == .ok, Hostile.describe(r))
        let expected = """
            fcntl-setlk-high EPERM
            fcntl-setlk EPERM
            fcntl-getlk EPERM
            fcntl-ofd-getlk EPERM
            fcntl-notify EPERM
            fcntl-setlease EPERM
            fcntl-getfl OK
            ioctl-tiocsti-high EPERM
            inotify_init EPERM
            inotify_init1 EPERM
            kcmp EPERM
            pidfd_getfd EPERM
            process_madvise EPERM
            prlimit-init EPERM
            prlimit-self OK
            setpriority-init EPERM
            setpriority-group EPERM
            setpriority-self OK
            sched_setscheduler-init EPERM
            sched_setparam-init EPERM
            sched_setattr-init EPERM
            sched_setaffinity-init EPERM
            sched_setaffinity-init-high EPERM
            sched_setaffinity-self OK
            ioprio_set-init EPERM
            ioprio_set-group EPERM
            ioprio_set-self OK
            cachestat ENOSYS
            fchmodat2 OK
            listmount ENOSYS

            """
        #expect(r.stdoutText == expected, Hostile.describe(r))
    }

    /// The deny-list is reviewed through a syscall number; the filter makes everything above it
    /// ENOSYS (policy.c's header). A libseccomp that names syscalls past that number means the
    /// review is behind: raise the number only after classifying the syscalls in between.
    @Test func everySyscallLibseccompKnowsIsReviewed() {
        let known = Int(csandbox_syscall_highest_known())
        let reviewed = Int(csandbox_syscall_reviewed_through())
        #expect(known > 400, "libseccomp names no recent syscall (\(known))")
        #expect(known <= reviewed, "libseccomp knows syscalls up to \(known), the deny-list is reviewed through \(reviewed): classify \(reviewed + 1)...\(known) in policy.c")
    }

    // MARK: - Host layout

    @Test func mountinfoAndCgroupRevealNoHostPath() throws {
        let r = try Gaps.run("host_layout.py")
        #expect(r.verdict == .ok, Hostile.describe(r))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: [String]], Hostile.describe(r))
        let mountinfo = try #require(report["mountinfo"])
        let cgroup = try #require(report["cgroup"])
        #expect(!mountinfo.isEmpty && !cgroup.isEmpty)
        let pid = String(getpid())
        let buildDirectory = Hostile.repositoryRoot + "/.build"
        for line in mountinfo {
            // id parent major:minor ROOT MOUNT-POINT options ... - fstype SOURCE super-options
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count else {
                Issue.record("unparsable mountinfo line: \(line)")
                continue
            }
            for path in [fields[3], fields[4], fields[dash + 2]] {
                let components = path.split(separator: "/").map(String.init)
                #expect(!components.contains { $0 == pid || $0.hasPrefix(pid + "-") }, "assay's pid in: \(line)")
                #expect(!path.contains(buildDirectory) && !path.contains(Hostile.repositoryRoot) && !path.contains(".build"),
                        "the build directory in: \(line)")
            }
        }
        // A cgroup namespace rooted at the run's cgroups: every hierarchy reads "/".
        for line in cgroup {
            #expect(line.split(separator: ":", maxSplits: 2).last == "/", "host cgroup path: \(line)")
        }
    }

    // MARK: - Read-only mounts, recursively

    /// A filesystem mounted beneath a read-only bind's source (here the template /etc) comes
    /// along with the recursive bind; it must be read-only in the box too.
    @Test func submountsOfTheReadOnlyViewAreReadOnly() throws {
        let etc = "\(Gaps.stateDirectory)/block-\(Gaps.block)/etc"
        let sub = etc + "/gap-submount"
        try #require(access(etc, F_OK) == 0, "no template at \(etc)")
        try #require(mkdir(sub, 0o755) == 0 || errno == EEXIST)
        defer { rmdir(sub) }
        try #require(mount("gap-submount", sub, "tmpfs", 0, "size=1m,mode=1777") == 0, "mount: \(errno)")
        defer { umount2(sub, Int32(MNT_DETACH)) }
        let r = try Gaps.sandbox.run(command: ["/bin/sh", "-c",
            "if echo x > /etc/gap-submount/f 2>/dev/null; then echo WRITTEN; else echo REFUSED; fi; grep -c gap-submount /proc/self/mountinfo"],
            limits: Hostile.limits())
        #expect(r.verdict == .ok, Hostile.describe(r))
        #expect(r.stdoutText == "REFUSED\n1\n", Hostile.describe(r))
        #expect(access(sub + "/f", F_OK) != 0, "the box wrote into the host's submount")
    }

    // MARK: - Rlimits

    @Test func everyRlimitIsSetNotInherited() throws {
        let r = try Gaps.run("proc_limits.sh")
        #expect(r.verdict == .ok, Hostile.describe(r))
        var limits: [String: (String, String)] = [:]
        for line in r.stdoutText.split(separator: "\n").dropFirst() {
            // "Max locked memory         65536                65536                bytes"
            let name = String(line.prefix(26)).trimmed
            let values = line.dropFirst(26).split(separator: " ").map(String.init)
            if values.count >= 2 { limits[name] = (values[0], values[1]) }
        }
        func check(_ name: String, _ soft: String, _ hard: String? = nil) {
            let got = limits[name]
            #expect(got?.0 == soft && got?.1 == (hard ?? soft), "\(name): \(got.map { "\($0.0) \($0.1)" } ?? "missing")")
        }
        check("Max locked memory", "65536")
        check("Max realtime priority", "0")
        check("Max nice priority", "0")
        check("Max pending signals", "1024")
        check("Max file locks", "0")
        check("Max msgqueue size", "0")
        check("Max core file size", "0")
        // Memory is the cgroup's: no address-space or data limit may be inherited.
        check("Max address space", "unlimited")
        check("Max data size", "unlimited")
        check("Max resident set", "unlimited")
        let rttime = limits["Max realtime timeout"]
        #expect(rttime != nil && rttime?.0 != "unlimited" && rttime?.0 == rttime?.1, "realtime timeout: \(String(describing: rttime))")
        #expect(limits.count == 16, "limits: \(limits.keys.sorted())")
    }

    // MARK: - Output through /dev/stdout

    @Test func devStdoutAndStderrCanBeOpenedByName() throws {
        let sh = try Gaps.run("dev_streams.sh", stdin: "in\n")
        #expect(sh.verdict == .ok, Hostile.describe(sh))
        #expect(sh.stdoutText == "out\nin\n" && sh.stderrText == "err\n", Hostile.describe(sh))
        let py = try Gaps.run("dev_streams.py", stdin: "in\n")
        #expect(py.verdict == .ok, Hostile.describe(py))
        #expect(py.stdoutText == "x\nin\n" && py.stderrText == "y\n", Hostile.describe(py))
    }

    // MARK: - Supervision failures clean up

    /// A supervision that fails (here: the watched process is not the caller's child, so wait4
    /// fails) still closes the pidfd and the output pipes it was handed.
    @Test func aFailedSupervisionClosesItsDescriptors() throws {
        // A process that is not this one's child: a grandchild, orphaned by its shell.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "/usr/bin/sleep 0.3 >/dev/null 2>&1 & echo $!"]
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        shell.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmed
        let grandchild = try #require(Int32(text))
        // glibc's pidfd_open (2.36), looked up because Swift's Glibc module does not import sys/pidfd.h.
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open"))
        let pidfdOpen = unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
        let pidfd = pidfdOpen(grandchild, 0)
        try #require(pidfd >= 0, "pidfd_open: \(errno)")
        var stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
        try #require(csandbox_pipe(&stdoutPipe) == 0 && csandbox_pipe(&stderrPipe) == 0)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        func identity(_ fd: Int32) -> (UInt, UInt)? {
            var st = stat()
            return fstat(fd, &st) == 0 ? (st.st_dev, st.st_ino) : nil
        }
        let handed = [pidfd, stdoutPipe[0], stderrPipe[0]]
        let before = handed.map(identity)
        var watch = csandbox_watch(
            pid: grandchild, pidfd: pidfd, stdout_fd: stdoutPipe[0], stderr_fd: stderrPipe[0],
            stdout_cap: 1024, stderr_cap: 1024, wall_limit_ns: 10_000_000_000, cpu_limit_ns: 0,
            cpu_usage_fd: -1, cpu_usage_format: 0, poll_interval_ns: 10_000_000, start_ns: 0, cpu_base_ns: 0)
        var outcome = csandbox_outcome()
        let rc = csandbox_supervise(&watch, &outcome)
        #expect(rc == ECHILD, "rc \(rc)")
        // Closed: the numbers are free, or (other tests run in this process) now name other files.
        for (fd, was) in zip(handed, before) {
            let now = identity(fd)
            #expect(now == nil || now! != was!, "descriptor \(fd) left open")
        }
    }

    // MARK: - State on exit, stale state

    /// `assay grade` ends with its Sandbox still referenced (no deinit runs at exit): its state
    /// directory and cgroups must go anyway.
    @Test func assayGradeLeavesNoStateBehind() throws {
        let exe = try #require(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let assay = (exe as NSString).deletingLastPathComponent + "/assay"
        try #require(access(assay, X_OK) == 0, "build the CLI first (swift build --build-tests): \(assay)")
        let state = "/run/assay-isolation-gaps-cli"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: assay)
        p.currentDirectoryURL = URL(fileURLWithPath: Hostile.repositoryRoot)
        p.arguments = ["grade", "--problems", "testdata/problems/humaneval-5.jsonl",
                       "--responses", "testdata/responses/humaneval-5.jsonl", "--state-dir", state]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(FileOps.entries(state).isEmpty, "left in \(state): \(FileOps.entries(state))")
        // Every assay cgroup beside this process's is a live Sandbox's (its uid block is held).
        for placement in CgroupLayout.detect(subtreeName: "x").placements {
            let parent = String(placement.base[..<placement.base.lastIndex(of: "/")!])
            for name in FileOps.entries(parent) {
                guard let block = UidBlocks.block(in: name, prefix: "assay-block-") else { continue }
                #expect(!UidBlocks.ifAbandoned(block: block) {}, "abandoned cgroup \(parent)/\(name)")
            }
        }
    }

    /// A process that exits with its Sandbox still referenced (here a static: deinit never runs)
    /// leaves no state directory or cgroup. The helper below runs in a child copy of this test
    /// binary; `assayGradeLeavesNoStateBehind` is the real case, where whether `grade`'s Sandbox
    /// is still referenced at exit depends on thread timing (worker threads release it late).
    @Test func aSandboxHeldUntilExitLeavesNoState() throws {
        let state = "/run/assay-isolation-gaps-exit"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")))
        p.arguments = ["--testing-library", "swift-testing", "--filter", "IsolationGapExitHelper"]
        p.environment = ["ASSAY_GAP_EXIT_HELPER": state, "PATH": "/usr/bin:/bin"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let blockFile = state + ".block"
        let block = try #require(FileOps.read(blockFile).flatMap { Int($0.trimmed) }, "the helper did not run")
        unlink(blockFile)
        #expect(access("\(state)/block-\(block)", F_OK) != 0, "left in \(state): \(FileOps.entries(state))")
        for path in CgroupLayout.detect(subtreeName: "assay-block-\(block)").placements.map(\.base) {
            #expect(access(path, F_OK) != 0, "cgroup left: \(path)")
        }
    }

    /// A Sandbox removes its state directory and cgroups when released, and a new one collects
    /// those no live process uses (the liveness is a lock, not a pid: the uid block's for cgroups,
    /// the state directory's own for state directories), but leaves a live one's alone.
    @Test func stateIsRemovedOnExitAndOnlyAbandonedStateIsCollected() throws {
        let state = "/run/assay-isolation-gaps-state"
        try #require(mkdir(state, 0o700) == 0 || errno == EEXIST)
        // Leftovers of block 99999: no process has its lock file (no one ever claimed it).
        let staleBlock = 99_999
        let stale = "\(state)/block-\(staleBlock)"
        try #require(mkdir(stale, 0o700) == 0 || errno == EEXIST)
        _ = mkdir(stale + "/etc", 0o755)
        _ = mkdir(stale + "/box-0", 0o755)
        _ = FileOps.create(stale + "/etc/passwd", contents: Array("x\n".utf8), mode: 0o644)
        let staleCgroups = CgroupLayout.detect(subtreeName: "assay-block-\(staleBlock)")
        try staleCgroups.createSubtrees()
        let staleCgroupPaths = staleCgroups.placements.map(\.base)
        try #require(!staleCgroupPaths.isEmpty && staleCgroupPaths.allSatisfy { access($0, F_OK) == 0 })
        // A live Sandbox's state directory here (its lock held): it must survive.
        let live = "\(state)/block-\(Gaps.block)"
        try #require(mkdir(live, 0o700) == 0 || errno == EEXIST)
        let liveLock = try StateDirectoryLock(directory: live)
        defer { rmdir(live); liveLock.release() }

        var sandbox: Sandbox? = try Sandbox(configuration: .init(stateDirectory: state, uidBase: Gaps.uidBase))
        let own = "\(state)/block-\(Int(sandbox!.uidRange.lowerBound) / UidBlocks.blockSize)"
        let ownCgroups = CgroupLayout.detect(subtreeName: "assay-block-\(Int(sandbox!.uidRange.lowerBound) / UidBlocks.blockSize)").placements.map(\.base)
        #expect(access(stale, F_OK) != 0, "abandoned state directory not collected")
        for path in staleCgroupPaths { #expect(access(path, F_OK) != 0, "abandoned cgroup not collected: \(path)") }
        #expect(access(live, F_OK) == 0, "a live block's state directory was removed")
        let r = try sandbox!.run(command: ["/usr/bin/true"], limits: Hostile.limits())
        #expect(r.verdict == .ok, Hostile.describe(r))
        #expect(access(own + "/etc/passwd", F_OK) == 0 && access(own + "/assay-box-init", X_OK) == 0)
        #expect(ownCgroups.allSatisfy { access($0, F_OK) == 0 })
        sandbox = nil
        #expect(access(own, F_OK) != 0, "state directory left after the Sandbox was released: \(FileOps.entries(own))")
        for path in ownCgroups { #expect(access(path, F_OK) != 0, "cgroup left after the Sandbox was released: \(path)") }
    }
}

/// Runs only in the child process of `aSandboxHeldUntilExitLeavesNoState`: creates a Sandbox,
/// keeps it in a static, writes its uid block number beside the state directory, and returns,
/// so the process exits with the Sandbox alive.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ASSAY_GAP_EXIT_HELPER"] != nil))
struct IsolationGapExitHelper {
    nonisolated(unsafe) static var held: Sandbox?

    @Test func holdASandboxUntilExit() throws {
        let state = try #require(ProcessInfo.processInfo.environment["ASSAY_GAP_EXIT_HELPER"])
        let sandbox = try Sandbox(configuration: .init(stateDirectory: state, uidBase: Gaps.uidBase))
        Self.held = sandbox
        let r = try sandbox.run(command: ["/usr/bin/true"], limits: Hostile.limits())
        #expect(r.verdict == .ok)
        let block = Int(sandbox.uidRange.lowerBound) / UidBlocks.blockSize
        #expect(FileOps.create(state + ".block", contents: Array("\(block)\n".utf8), mode: 0o600) == 0)
    }
}
