import Foundation
import Glibc
import Sandboxing
import Synchronization
import Testing

/// The clean Python zygote: nothing a submission does reaches the zygote or a later submission,
/// its box holds none of the zygote's power, and a zygote that dies is replaced (a sandbox
/// error for the run in flight, never a verdict).
@Suite(.enabled(if: TestSupport.isRoot, "the sandbox needs root"), .serialized)
final class ZygoteTests: @unchecked Sendable {
    let profile = TestSupport.profile("python3")
    let stateDirectory = "/run/assay-zygote-tests"
    let sandbox: Sandbox

    init() throws {
        // A sandbox of its own, so its zygote is the only one these tests see.
        sandbox = try Sandbox(configuration: .init(stateDirectory: stateDirectory))
    }

    func run(_ source: String, _ tests: [WarmTest] = [WarmTest()], cpu: Double = 2) throws -> [WarmTestResult] {
        try sandbox.runWarmPython(source: source, preamble: "import math\n", tests: tests,
                                  limits: Limits(cpuTimeSeconds: cpu, wallTimeSeconds: 200, memoryBytes: 128 << 20),
                                  profile: profile, stopAtFirstFailure: false)
    }

    /// /proc/PID/status fields of a host process.
    static func status(_ pid: pid_t) -> [String: String] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    static func namespace(_ pid: pid_t, _ kind: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/\(pid)/ns/\(kind)", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// Host pids of this sandbox's processes that are pid `innerPid` of their own pid namespace.
    func boxProcesses(innerPid: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name) else { return nil }
            let s = Self.status(pid)
            guard let uid = s["Uid"]?.split(separator: "\t").first.flatMap({ uid_t($0) }), sandbox.uidRange.contains(uid),
                  let nspid = s["NSpid"]?.split(separator: "\t"), nspid.last.map(String.init) == innerPid else { return nil }
            return pid
        }
    }

    /// Host pids of this sandbox's box (pid 1 of its namespace) and its first test (pid 2), once
    /// both run; polled with a liveness bound only (a loaded machine is slow to start them).
    func liveBox() -> (box: pid_t, test: pid_t)? {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let box = boxProcesses(innerPid: "1").first, let test = boxProcesses(innerPid: "2").first { return (box, test) }
            usleep(25_000)
        }
        return nil
    }

    /// While a submission's test waits, reads its box (pid 1 of the box's namespace, the warm
    /// harness) and the test's process from the host; then ends the test (killed: a runtime
    /// error), so the box lives exactly as long as the inspection needs, whatever the load.
    func inspectLiveBox() throws -> (box: [String: String], test: [String: String], boxFDs: [String], boxPid: pid_t) {
        let submission = OnThread { [self] in try run("import time\ntime.sleep(120)", cpu: 2) }
        let (found, child) = try #require(liveBox(), "the submission's box and test never both ran")
        let fds = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(found)/fd")) ?? []).compactMap { fd -> String? in
            var buffer = [CChar](repeating: 0, count: 512)
            let n = readlink("/proc/\(found)/fd/\(fd)", &buffer, buffer.count - 1)
            return n > 0 ? "\(fd) -> " + String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        }
        let result = (Self.status(found), Self.status(child), fds.sorted(), found)
        let ns = ["mnt", "pid", "ipc", "uts", "cgroup", "net"].map { Self.namespace(found, $0) }
        boxNamespaces.append(ns)
        // Held open, so no namespace of this box is freed and its number reused by a later one.
        for kind in ["mnt", "pid", "ipc", "uts", "cgroup"] { heldNamespaces.append(open("/proc/\(found)/ns/\(kind)", O_RDONLY | O_CLOEXEC)) }
        kill(child, SIGKILL)
        let outcome = try submission.result()
        #expect(outcome.first?.run.verdict == .runtimeError, "the test killed from the host: \(outcome.map(\.run.verdict))")
        return result
    }

    var boxNamespaces: [[String]] = []
    var heldNamespaces: [Int32] = []

    deinit { for fd in heldNamespaces where fd >= 0 { close(fd) } }

    /// `body` started on a thread of its own, not on Swift's cooperative pool: while other
    /// suites' synchronous tests fill that pool (two threads on a two-core machine), a task
    /// there might not start before `liveBox` gives up.
    final class OnThread<T>: @unchecked Sendable {
        private var value: Result<T, any Error>?
        private let done = DispatchSemaphore(value: 0)
        init(_ body: @escaping @Sendable () throws -> T) {
            Thread { [self] in
                value = Result { try body() }
                done.signal()
            }.start()
        }
        /// Waits for `body` to end; its result or its error.
        func result() throws -> T {
            done.wait()
            return try value!.get()
        }
    }

    /// `/run_code`'s box (`runWarmPythonProgram`) is laid out as a cold box: the program runs as
    /// pid 2 under the box's init (assay-box-init, which adopted it), holds nothing but its
    /// stdin, stdout and stderr (not the init's status pipe, not the start pipe, not the job),
    /// and has no privilege; nor has the init, which holds only its status pipe; killing the
    /// program from the host is its runtime error, as in a cold box.
    @Test func aProgramRunsUnderTheBoxsInitWithOnlyItsOwnDescriptors() throws {
        let submission = OnThread { [self] in
            try sandbox.runWarmPythonProgram(source: "import time\ntime.sleep(120)", stdin: Array("x".utf8),
                                             limits: Limits(cpuTimeSeconds: 2, wallTimeSeconds: 200, memoryBytes: 128 << 20),
                                             profile: profile, zygoteImports: "import math\n", zygotePrelude: "")
        }
        let (box, program) = try #require(liveBox(), "the program's box and the program never both ran")
        let fds = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(program)/fd")) ?? []).sorted()
        #expect(fds == ["0", "1", "2"], "the program holds more than its stdin, stdout and stderr: \(fds)")
        let initFDs = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(box)/fd")) ?? []).sorted()
        #expect(initFDs == ["3"], "the box's init holds more than its status pipe: \(initFDs)")
        #expect(Self.status(box)["Name"] == ".assay-init")
        #expect(Self.status(program)["Name"] == "python3")
        #expect(Self.status(program)["PPid"] == "\(box)", "the program's parent is not the box's init")
        for (name, s) in [("init", Self.status(box)), ("program", Self.status(program))] {
            #expect(s["Uid"]?.split(separator: "\t").allSatisfy { $0 == "\(sandbox.uidRange.lowerBound)" } == true, "\(name)")
            for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] { #expect(s[cap] == "0000000000000000", "\(name) \(cap)") }
            #expect(s["NoNewPrivs"] == "1", "\(name)")
            #expect(s["Seccomp"] == "2", "\(name)")
        }
        kill(program, SIGKILL)
        let r = try submission.result()
        #expect(r.verdict == .runtimeError && r.signal == SIGKILL, "\(r.verdict) \(String(describing: r.signal))")
    }

    /// A program box's init is freshly exec'd, so open to the program's uid, until it makes itself
    /// non-dumpable; the program waits on the start pipe until then. So from its first statement
    /// no program may list the init's descriptors (its status pipe), even with many starting at
    /// once on every core.
    @Test func aProgramCannotReachItsInitsDescriptorsFromItsFirstStatement() throws {
        let source = "import os\ntry:\n    print(len(os.listdir('/proc/1/fd')))\nexcept PermissionError:\n    print('closed')\n"
        let outputs = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<16 {
                do {
                    let r = try sandbox.runWarmPythonProgram(source: source, stdin: [], limits: Limits(cpuTimeSeconds: 2, wallTimeSeconds: 200),
                                                             profile: profile, zygoteImports: "import math\n", zygotePrelude: "")
                    outputs.withLock { $0.append(r.stdoutText) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let open = outputs.withLock { $0.filter { $0 != "closed\n" } }
        #expect(open.isEmpty, "\(open.count) of 128 programs listed their init's descriptors: \(open.prefix(3))")
    }

    @Test func theBoxHoldsNothingOfTheZygote() throws {
        let (box, test, fds, _) = try inspectLiveBox()
        let zygote = try #require(sandbox.pythonZygoteProcessIDs.first)
        // The zygote itself keeps exactly CHOWN, SETGID, SETUID, SETPCAP and SYS_ADMIN (bits 0,
        // 6, 7, 8, 21), and no more in its bounding set: what its boxes need to enter a box.
        let zygoteStatus = Self.status(zygote)
        for cap in ["CapPrm", "CapEff", "CapBnd"] {
            #expect(zygoteStatus[cap] == "00000000002001c1", "the zygote's \(cap) is \(zygoteStatus[cap] ?? "?")")
        }
        let slotUid = "\(sandbox.uidRange.lowerBound)"
        for (name, s) in [("box", box), ("test", test)] {
            #expect(s["Uid"]?.split(separator: "\t").allSatisfy { $0 == slotUid } == true, "\(name) uid: \(s["Uid"] ?? "?")")
            #expect(s["Gid"]?.split(separator: "\t").allSatisfy { $0 == slotUid } == true, "\(name) gid: \(s["Gid"] ?? "?")")
            for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                #expect(s[cap] == "0000000000000000", "\(name) \(cap) is \(s[cap] ?? "?")")
            }
            #expect(s["NoNewPrivs"] == "1", "\(name) NoNewPrivs")
            #expect(s["Seccomp"] == "2", "\(name) has no seccomp filter: \(s["Seccomp"] ?? "?")")
            #expect(s["Groups"] == "", "\(name) supplementary groups: \(s["Groups"] ?? "?")")
        }
        // The job, the record and stderr pipes, and the per-test cgroup handles: nothing of the
        // zygote (its control socket, its stderr file) and no second copy of anything.
        #expect(!fds.contains { $0.contains("socket:") }, "the box holds a socket: \(fds)")
        #expect(!fds.contains { $0.contains(".stderr") }, "the box holds the zygote's stderr: \(fds)")
        let targets = fds.map { $0.split(separator: " ").last.map(String.init) ?? $0 }
        #expect(Set(targets).count == targets.count, "the box holds a descriptor twice (one it was handed is still open): \(fds)")
        // Fresh namespaces, and the slot's empty network namespace (as a cold run of the slot
        // gets), neither the zygote's nor the host's.
        let ns = try #require(boxNamespaces.first)
        for (i, kind) in ["mnt", "pid", "ipc", "uts", "cgroup", "net"].enumerated() {
            #expect(ns[i] != Self.namespace(zygote, kind), "the box shares the zygote's \(kind) namespace")
            #expect(ns[i] != Self.namespace(getpid(), kind), "the box shares the host's \(kind) namespace")
        }
    }

    @Test func everySubmissionGetsFreshNamespaces() throws {
        _ = try inspectLiveBox()
        _ = try inspectLiveBox()
        #expect(boxNamespaces.count == 2)
        for (i, kind) in ["mnt", "pid", "ipc", "uts", "cgroup"].enumerated() {
            #expect(boxNamespaces[0][i] != boxNamespaces[1][i], "two submissions shared a \(kind) namespace")
        }
    }

    @Test func aSubmissionCannotReachTheZygoteOrTheNextSubmission() throws {
        _ = try run("print(1)")
        let zygote = try #require(sandbox.pythonZygoteProcessIDs.first)
        // Everything it can name: every visible pid, the zygote's host pid, -1; signals, priority,
        // rlimits and ptrace; then it leaves what it can for the next submission.
        let hostile = """
            import ctypes, os, signal, sys, resource, subprocess
            libc = ctypes.CDLL(None, use_errno=True)
            targets = {int(p) for p in os.listdir('/proc') if p.isdigit()} | {\(zygote), 1}
            targets.discard(os.getpid())
            for pid in sorted(targets):
                for attempt in (lambda: os.kill(pid, signal.SIGKILL), lambda: os.setpriority(os.PRIO_PROCESS, pid, 19),
                                lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (1, 1)),
                                lambda: libc.ptrace(16, pid, 0, 0)):
                    try:
                        attempt()
                    except Exception:
                        pass
            try:
                os.kill(-1, signal.SIGKILL)
            except Exception:
                pass
            open('/tmp/left', 'w').write('x'); open('/work/left', 'w').write('x'); open('/dev/shm/left', 'w').write('x')
            print('tried')
            """
        _ = try run(hostile)
        #expect(sandbox.pythonZygoteProcessIDs == [zygote], "the zygote was replaced: a submission reached it")
        #expect(kill(zygote, 0) == 0)
        let later = try run("import glob\nprint(sorted(glob.glob('/tmp/*') + glob.glob('/work/*') + glob.glob('/dev/shm/*')))")
        #expect(later.first?.run.stdoutText == "[]\n")
        #expect(sandbox.pythonZygoteProcessIDs == [zygote])
    }

    @Test func aZygoteThatDiesIsReplacedAndItsRunIsASandboxError() throws {
        _ = try run("print(1)")
        let first = try #require(sandbox.pythonZygoteProcessIDs.first)
        // Dead between submissions: the next one starts a new zygote and runs normally.
        kill(first, SIGKILL)
        let after = try run("print(2)")
        #expect(after.first?.run.stdoutText == "2\n")
        let second = try #require(sandbox.pythonZygoteProcessIDs.first)
        #expect(second != first)
        // Dead during a submission: that run is a sandbox error, never a verdict.
        let submission = OnThread { [self] in try run("import time\ntime.sleep(120)\nprint('late')", cpu: 2) }
        let running = try #require(liveBox(), "the submission's box and test never both ran")
        kill(second, SIGKILL)
        do {
            let results = try submission.result()
            Issue.record("a run whose zygote died got results: \(results.map(\.run.verdict)) \(results.map(\.run.stdoutText)); its test was \(running), zygotes now \(sandbox.pythonZygoteProcessIDs), killed \(second)")
        } catch let error as SandboxError {
            #expect(error.code == .supervisionFailed, "\(error)")
        }
        let again = try run("print(3)")
        #expect(again.first?.run.stdoutText == "3\n")
    }

    @Test func aHungZygoteIsReplacedAndItsRunIsASandboxError() throws {
        // A sandbox of its own whose zygotes count as hung after 2 s without an answer.
        let hung = try Sandbox(configuration: .init(stateDirectory: "/run/assay-zygote-hung", zygoteAnswerTimeoutSeconds: 2))
        func go(_ source: String) throws -> [WarmTestResult] {
            try hung.runWarmPython(source: source, preamble: "", tests: [WarmTest()], limits: Limits(cpuTimeSeconds: 1),
                                   profile: profile, stopAtFirstFailure: false)
        }
        _ = try go("print(1)")
        let first = try #require(hung.pythonZygoteProcessIDs.first)
        kill(first, SIGSTOP)  // alive, but it answers nothing
        do {
            let results = try go("print(2)")
            Issue.record("a run sent to a hung zygote got results: \(results.map(\.run.verdict))")
        } catch let error as SandboxError {
            #expect(error.code == .supervisionFailed, "\(error)")
            #expect(error.message.contains("did not answer"), "\(error)")
        }
        // The next submission gets a new zygote; the hung one was killed, not left stopped.
        let after = try go("print(3)")
        #expect(after.first?.run.stdoutText == "3\n")
        #expect(!hung.pythonZygoteProcessIDs.contains(first))
        let deadline = Date().addingTimeInterval(30)
        while kill(first, 0) == 0, Date() < deadline { usleep(10_000) }
        #expect(kill(first, 0) != 0, "the hung zygote \(first) is still there")
    }

    @Test func nothingOfAZygoteOutlivesItsSandbox() throws {
        let state = "/run/assay-zygote-teardown"
        var owned: Sandbox? = try Sandbox(configuration: .init(stateDirectory: state))
        _ = try owned!.runWarmPython(source: "print(1)", preamble: "", tests: [WarmTest()], limits: Limits(cpuTimeSeconds: 1),
                                     profile: profile, stopAtFirstFailure: false)
        let pids = owned!.pythonZygoteProcessIDs
        #expect(pids.count == 1)
        #expect(!Hostile.boxMounts(under: state, includingZygotes: true).isEmpty)
        owned = nil
        for pid in pids { #expect(kill(pid, 0) != 0, "zygote \(pid) outlived its sandbox") }
        #expect(Hostile.boxMounts(under: state, includingZygotes: true).isEmpty)
    }
}
