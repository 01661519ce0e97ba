import Foundation
import Glibc
import Synchronization

/// One running Python zygote (``ZygoteProgram``), bound to a slot: it lives in the slot's empty
/// network namespace, and the slot's runs are its children, one at a time (a slot belongs to one
/// run at a time). It is started once and serves every warm Python submission of its slot.
final class PythonZygote: @unchecked Sendable {
    // @unchecked: used only by the run that holds its slot (SlotPool), one at a time.

    /// What a zygote was started with; a submission needs a zygote with the same.
    struct Key: Hashable {
        var interpreter: String
        var environment: [String]
        /// Imported once in the zygote (ours: fixed import lines, never submitted code).
        var preamble: String
    }

    let key: Key
    /// The zygote's pid on the host.
    let pid: pid_t
    private let pidfd: Int32
    private let control: Int32
    private let stderrFD: Int32
    private var root: Box
    private(set) var usable = true

    /// How long the zygote may take to answer the host: a start under load, a fork. It only
    /// bounds a hung zygote; a healthy one answers in milliseconds.
    static let answerTimeoutMilliseconds: Int32 = 60_000

    private init(key: Key, pid: pid_t, pidfd: Int32, control: Int32, stderrFD: Int32, root: Box) {
        self.key = key
        self.pid = pid
        self.pidfd = pidfd
        self.control = control
        self.stderrFD = stderrFD
        self.root = root
    }

    /// Starts a zygote for `slot` and waits until it has imported everything.
    static func start(key: Key, slot: Slot, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        var root = Box(root: slot.boxPath + "-zygote", uid: slot.uid)
        if mkdir(root.root, 0o700) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create the zygote's mount point \(root.root)", errno: errno)
        }
        let files = [BoxFile(name: ZygoteProgram.fileName, contents: Array(ZygoteProgram.source.utf8)),
                     BoxFile(name: "preamble.py", contents: Array(key.preamble.utf8))]
        try root.create(limits: Limits(), files: files, template: sandbox.template, extraDirectories: ["box"])
        let zygote: PythonZygote
        do throws(SandboxError) {
            zygote = try spawn(key: key, slot: slot, root: root, sandbox: sandbox)
        } catch {
            root.destroy()
            throw error
        }
        let ready: Message
        do throws(SandboxError) { ready = try zygote.expectMessage("start") } catch {
            zygote.stop()
            throw error
        }
        guard ready.json?["ready"] as? Bool == true else {
            zygote.stop()
            throw SandboxError(.supervisionFailed, "the Python zygote did not start: \(ready.text)")
        }
        return zygote
    }

    private static func spawn(key: Key, slot: Slot, root: Box, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        let (ours, theirs) = try Shim.seqpacketPair()
        defer { close(theirs) }
        // Its stderr is kept in an unlinked file the host reads only to explain a zygote that failed.
        let stderrPath = root.root + ".stderr"
        let stderrFD = open(stderrPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        unlink(stderrPath)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        guard stderrFD >= 0, null >= 0 else {
            let err = errno
            close(ours)
            if stderrFD >= 0 { close(stderrFD) }
            throw SandboxError(.hostSetupFailed, "cannot open the zygote's descriptors", errno: err)
        }
        let spec = SpawnSpec(
            path: key.interpreter, argv: [key.interpreter, "-I", "-B", "/app/" + ZygoteProgram.fileName],
            environment: key.environment, stdinFD: theirs, stdoutFD: null, stderrFD: stderrFD, statusFD: -1,
            cgroupProcsFDs: [], root: root.root, mounts: root.mountPlan(template: sandbox.template, initBinary: sandbox.initBinary),
            workdir: "/work", netnsFD: slot.netnsFD, cloneFlags: Shim.boxCloneFlags, hostname: "assay",
            rlimits: [], uid: 0, gid: 0, filter: nil, zygoteCapabilities: ZygoteProgram.capabilities)
        // The zygote dies with the thread that starts it (PR_SET_PDEATHSIG): that thread must live
        // as long as the process, not as long as the worker that first needed a zygote.
        let spawned = ZygoteLauncher.shared.run { () -> Result<(pid: pid_t, pidfd: Int32), SandboxError> in
            do throws(SandboxError) { return .success(try Shim.spawn(spec)) } catch { return .failure(error) }
        }
        switch spawned {
        case .success(let child):
            return PythonZygote(key: key, pid: child.pid, pidfd: child.pidfd, control: ours, stderrFD: stderrFD, root: root)
        case .failure(let error):
            close(ours)
            close(stderrFD)
            throw error
        }
    }

    /// What the zygote or its entry process sent.
    struct Message {
        var bytes: [UInt8]
        var fds: [Int32]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] }
        var text: String { String(decoding: bytes.prefix(4000), as: UTF8.self) }
    }

    /// One message from the zygote, or why there is none.
    private enum Received {
        case message(Message)
        /// The zygote closed its end or reset the connection: it is dead.
        case gone
        case failed(SandboxError)
    }

    private func receive(what: String, timeoutMilliseconds: Int32 = answerTimeoutMilliseconds) -> Received {
        switch Shim.receiveMessage(control, timeoutMilliseconds: timeoutMilliseconds) {
        case .success(let (bytes, fds)) where !bytes.isEmpty:
            return .message(Message(bytes: bytes, fds: fds))
        case .success:
            usable = false
            return .gone
        case .failure(let err) where err.value == ECONNRESET:
            usable = false
            return .gone
        case .failure(let err):
            usable = false
            return .failed(SandboxError(.supervisionFailed,
                err.value == ETIMEDOUT ? "the Python zygote did not answer (\(what)) within \(timeoutMilliseconds / 1000) s; it is replaced"
                                       : "cannot read from the Python zygote (\(what))", errno: err.value))
        }
    }

    private func expectMessage(_ what: String) throws(SandboxError) -> Message {
        switch receive(what: what) {
        case .message(let m): return m
        case .gone: throw SandboxError(.supervisionFailed, "the Python zygote ended during \(what): \(stderrTail())")
        case .failed(let e): throw e
        }
    }

    /// Why a submission did not get a box.
    enum SubmitFailure: Error {
        /// The zygote was gone before it could start the run's box, so nothing of the run is
        /// left (a box the dying zygote had already forked died with it: its pid namespace is
        /// inside the zygote's): the caller may start another zygote and send it again.
        case goneBeforeRequest
        case failed(SandboxError)
    }

    /// Hands one submission to the zygote; returns a pidfd of its box (pid 1 of the box's pid
    /// namespace; killing it kills the box).
    func submit(_ request: [String: Any], fds: [Int32]) -> Result<Int32, SubmitFailure> {
        guard let bytes = try? JSONSerialization.data(withJSONObject: request) else {
            return .failure(.failed(SandboxError(.invalidConfiguration, "cannot encode the zygote request")))
        }
        let rc = Shim.sendMessage(control, Array(bytes), fds: fds)
        if rc == EPIPE || rc == ECONNRESET {
            usable = false
            return .failure(.goneBeforeRequest)
        } else if rc != 0 {
            usable = false
            return .failure(.failed(SandboxError(.supervisionFailed, "cannot send to the Python zygote", errno: rc)))
        }
        switch receive(what: "a submission's start") {
        case .gone:
            return .failure(.goneBeforeRequest)
        case .failed(let error):
            return .failure(.failed(error))
        case .message(let answer):
            if answer.json?["box"] is Int, answer.fds.count == 1 { return .success(answer.fds[0]) }
            for fd in answer.fds { close(fd) }
            usable = false
            return .failure(.failed(SandboxError(.supervisionFailed, "the Python zygote could not start a box: \(answer.text)")))
        }
    }

    /// The wait status of the box that `submit` started, once it has ended.
    func awaitStatus() throws(SandboxError) -> Int32 {
        let answer = try expectMessage("a submission's end")
        for fd in answer.fds { close(fd) }
        guard let status = answer.json?["status"] as? Int else {
            usable = false
            throw SandboxError(.supervisionFailed, "the Python zygote reported no status: \(answer.text)")
        }
        return Int32(truncatingIfNeeded: status)
    }

    private func stderrTail() -> String {
        var buffer = [UInt8](repeating: 0, count: 4000)
        let size = lseek(stderrFD, 0, SEEK_END)
        let n = pread(stderrFD, &buffer, buffer.count, max(0, size - off_t(buffer.count)))
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : "(no output)"
    }

    /// Ends the zygote (and whatever box it still has: they are in its pid namespace) and frees
    /// its root.
    func stop() {
        usable = false
        Shim.kill(pidfd: pidfd)
        var status: Int32 = 0
        while waitpid(pid, &status, __WALL) < 0 && errno == EINTR {}
        close(pidfd)
        close(control)
        close(stderrFD)
        root.destroy()
    }
}

/// The zygotes of one sandbox, by slot: at most `perSlot` each (one per preamble in use, the
/// least recently used replaced).
final class ZygoteTable: Sendable {
    private let table = Mutex<[Int: [PythonZygote]]>([:])
    static let perSlot = 2

    /// The slot's zygote for `key`, started if there is none (or the last one failed).
    func zygote(for key: PythonZygote.Key, slot: Slot, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        var stale: [PythonZygote] = []
        let found: PythonZygote? = table.withLock { t in
            var list = t[slot.index] ?? []
            stale = list.filter { !$0.usable }
            list.removeAll { !$0.usable }
            defer { t[slot.index] = list }
            guard let index = list.firstIndex(where: { $0.key == key }) else { return nil }
            let z = list.remove(at: index)
            list.append(z)  // most recently used last
            return z
        }
        for z in stale { z.stop() }
        if let found { return found }
        let started = try PythonZygote.start(key: key, slot: slot, sandbox: sandbox)
        let evicted: [PythonZygote] = table.withLock { t in
            var list = t[slot.index] ?? []
            list.append(started)
            let over = max(0, list.count - Self.perSlot)
            let gone = Array(list.prefix(over))
            list.removeFirst(over)
            t[slot.index] = list
            return gone
        }
        for z in evicted { z.stop() }
        return started
    }

    /// Forgets a zygote that failed (it is stopped and replaced on the slot's next run).
    func discard(_ zygote: PythonZygote, slot: Slot) {
        table.withLock { t in t[slot.index]?.removeAll { $0 === zygote } }
        zygote.stop()
    }

    var processIDs: [pid_t] { table.withLock { t in t.values.flatMap { $0.filter(\.usable).map(\.pid) } } }

    func stopAll() {
        let all = table.withLock { t in
            defer { t = [:] }
            return t.values.flatMap { $0 }
        }
        for z in all { z.stop() }
    }
}

/// Starts zygotes from one thread that lives as long as the process. A box dies with the thread
/// that started it (spawn.c sets PR_SET_PDEATHSIG), which is right for a run (the thread
/// supervises it to the end) but not for a zygote, which serves later runs from other threads.
final class ZygoteLauncher: @unchecked Sendable {
    // @unchecked: `work` is guarded by `condition`.
    static let shared = ZygoteLauncher()
    private let condition = NSCondition()
    private var work: [() -> Void] = []

    private init() {
        let thread = Thread { [self] in
            while true {
                condition.lock()
                while work.isEmpty { condition.wait() }
                let next = work.removeFirst()
                condition.unlock()
                next()
            }
        }
        thread.name = "assay-zygote-launcher"
        thread.start()
    }

    /// Runs `body` on the launcher thread and returns its result.
    func run<T>(_ body: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        condition.lock()
        work.append {
            result = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return result!
    }
}
