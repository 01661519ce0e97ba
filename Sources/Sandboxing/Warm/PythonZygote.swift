import Foundation
import Glibc
import Synchronization

/// One running Python zygote (``ZygoteProgram``). It serves every slot of its sandbox at once:
/// it only forks and reaps, and answers each submission on the submission's own socket.
final class PythonZygote: @unchecked Sendable {
    // @unchecked: every stored property is immutable but `usable` (atomic); the descriptors are
    // closed only in deinit, when no run holds the zygote any more.

    /// What a zygote was started with; a submission needs a zygote with the same.
    struct Key: Hashable {
        var interpreter: String
        var environment: [String]
        /// Imported once in the zygote (ours: fixed import lines, never submitted code).
        var preamble: String
        /// Compiled once in the zygote, as the file `preludePath` (ours, never submitted code): a
        /// job may run it before its source (see `Sandbox.runWarmPython`).
        var prelude: String = ""
        var preludePath: String = "/app/main.py"
    }

    let key: Key
    /// The zygote's pid on the host.
    let pid: pid_t
    private let pidfd: Int32
    private let control: Int32
    private let stderrFD: Int32
    private let root: Box
    private let usableFlag = Atomic<Bool>(true)

    var usable: Bool { usableFlag.load(ordering: .acquiring) && !hasEnded }

    /// How long the zygote may take to answer (`Sandbox.Configuration.zygoteAnswerTimeoutSeconds`).
    private let answerTimeoutMilliseconds: Int32

    private init(key: Key, pid: pid_t, pidfd: Int32, control: Int32, stderrFD: Int32, root: Box, answerTimeoutMilliseconds: Int32) {
        self.key = key
        self.answerTimeoutMilliseconds = answerTimeoutMilliseconds
        self.pid = pid
        self.pidfd = pidfd
        self.control = control
        self.stderrFD = stderrFD
        self.root = root
    }

    /// Starts a zygote with its own root at `rootPath` and waits until it has imported everything.
    static func start(key: Key, rootPath: String, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        var root = Box(root: rootPath, uid: 0)
        if mkdir(rootPath, 0o700) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create the zygote's mount point \(rootPath)", errno: errno)
        }
        let engine = try BuiltFileLocator.zygoteEngine(configured: sandbox.configuration.zygoteEngine)
        guard let engineBytes = FileManager.default.contents(atPath: engine) else {
            throw SandboxError(.hostSetupFailed, "cannot read the zygote's engine \(engine)", errno: errno)
        }
        let files = [BoxFile(name: ZygoteProgram.fileName, contents: Array(ZygoteProgram.source.utf8)),
                     BoxFile(name: ZygoteProgram.engineFileName, contents: Array(engineBytes), executable: true),
                     BoxFile(name: "preamble.py", contents: Array(key.preamble.utf8)),
                     BoxFile(name: "prelude.py", contents: Array(key.prelude.utf8)),
                     BoxFile(name: "prelude-path", contents: Array(key.preludePath.utf8))]
        try root.create(limits: Limits(), files: files, template: sandbox.template, extraDirectories: ["box"])
        let zygote: PythonZygote
        do throws(SandboxError) {
            zygote = try spawn(key: key, root: root, sandbox: sandbox)
        } catch {
            root.destroy()
            throw error
        }
        let ready = zygote.receive(zygote.control, what: "start")
        guard case .message(let message) = ready, message.answer?.ready == true else {
            zygote.stop()
            switch ready {
            case .failed(let error): throw error
            case .message(let m): throw SandboxError(.supervisionFailed, "the Python zygote did not start: \(m.text)")
            case .gone: throw SandboxError(.supervisionFailed, "the Python zygote ended while starting: \(zygote.stderrTail())")
            }
        }
        return zygote
    }

    private static func spawn(key: Key, root: Box, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        let (ours, theirs) = try Shim.seqpacketPair()
        defer { close(theirs) }
        // An empty network namespace of its own; each box joins its slot's.
        let netns = Shim.createNetworkNamespace()
        defer { if netns >= 0 { close(netns) } }
        // Its stderr is kept in an unlinked file the host reads only to explain a zygote that failed.
        let stderrPath = root.root + ".stderr"
        let stderrFD = open(stderrPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        unlink(stderrPath)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        guard stderrFD >= 0, null >= 0, netns >= 0 else {
            let err = netns < 0 ? -netns : errno
            close(ours)
            if stderrFD >= 0 { close(stderrFD) }
            throw SandboxError(.hostSetupFailed, "cannot open the zygote's descriptors", errno: err)
        }
        let spec = SpawnSpec(
            path: key.interpreter, argv: [key.interpreter, "-I", "-B", "/app/" + ZygoteProgram.fileName],
            environment: key.environment, stdinFD: theirs, stdoutFD: null, stderrFD: stderrFD, statusFD: -1,
            cgroupProcsFDs: [], root: root.root, mounts: root.mountPlan(template: sandbox.template, initBinary: sandbox.initBinary),
            workdir: "/work", netnsFD: netns, cloneFlags: Shim.boxCloneFlags, hostname: "assay",
            rlimits: [], uid: 0, gid: 0, filter: nil, zygoteCapabilities: ZygoteProgram.capabilities)
        // The zygote dies with the thread that starts it (PR_SET_PDEATHSIG): that thread must live
        // as long as the process, not as long as the worker that first needed a zygote.
        let spawned = ZygoteLauncher.shared.run { () -> Result<(pid: pid_t, pidfd: Int32), SandboxError> in
            do throws(SandboxError) { return .success(try Shim.spawn(spec)) } catch { return .failure(error) }
        }
        switch spawned {
        case .success(let child):
            let timeout = min(max(sandbox.configuration.zygoteAnswerTimeoutSeconds, 0.001), 86_400)
            return PythonZygote(key: key, pid: child.pid, pidfd: child.pidfd, control: ours, stderrFD: stderrFD, root: root,
                                answerTimeoutMilliseconds: Int32(timeout * 1000))
        case .failure(let error):
            close(ours)
            close(stderrFD)
            throw error
        }
    }

    /// What the zygote sent.
    struct Message {
        var bytes: [UInt8]
        var fds: [Int32]
        /// What the zygote says: `{"ready": true}`, `{"box": pid}`, `{"status": n}` or `{"error": text}`.
        struct Answer: Decodable {
            var ready: Bool?
            var box: Int?
            var status: Int?
            var error: String?
        }
        var answer: Answer? { try? JSONDecoder().decode(Answer.self, from: Data(bytes)) }
        var text: String { String(decoding: bytes.prefix(4000), as: UTF8.self) }
    }

    /// One message, or why there is none.
    enum Received {
        case message(Message)
        /// The other end closed or reset: that process is dead.
        case gone
        case failed(SandboxError)
    }

    private func receive(_ socket: Int32, what: String) -> Received {
        switch Shim.receiveMessage(socket, timeoutMilliseconds: answerTimeoutMilliseconds) {
        case .success(let (bytes, fds)) where !bytes.isEmpty:
            return .message(Message(bytes: bytes, fds: fds))
        case .success:
            return .gone
        case .failure(let err) where err.value == ECONNRESET:
            return .gone
        case .failure(let err):
            return .failed(SandboxError(.supervisionFailed,
                err.value == ETIMEDOUT ? "the Python zygote did not answer (\(what)) within \(Double(answerTimeoutMilliseconds) / 1000) s; it is replaced"
                                       : "cannot read from the Python zygote (\(what))", errno: err.value))
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

    /// A submission the zygote has started.
    struct Started {
        /// pid 1 of the box's pid namespace: killing it kills the box.
        var boxPidfd: Int32
        /// Where the zygote reports the box's end.
        var reply: Int32
    }

    /// Hands one submission to the zygote. `fds`: the job, record and stderr descriptors, then
    /// the slot's cgroup `procs` descriptors and the per-test handles; the submission's reply
    /// socket and `netns` are put in their place (see ``ZygoteProgram``).
    func submit(_ bytes: [UInt8], fds: [Int32], netns: Int32) -> Result<Started, SubmitFailure> {
        let reply: (Int32, Int32)
        do { reply = try Shim.seqpacketPair() } catch { return .failure(.failed(error)) }
        let rc = Shim.sendMessage(control, bytes, fds: Array(fds[..<3]) + [reply.1, netns] + Array(fds[3...]))
        close(reply.1)
        if rc != 0 {
            close(reply.0)
            usableFlag.store(false, ordering: .releasing)
            return .failure(rc == EPIPE || rc == ECONNRESET ? .goneBeforeRequest
                                : .failed(SandboxError(.supervisionFailed, "cannot send to the Python zygote", errno: rc)))
        }
        switch receive(reply.0, what: "a submission's start") {
        case .gone:
            close(reply.0)
            // The zygote closed the socket before reporting a box: it died (then it is replaced
            // and the submission sent again), or closed it by a fault of ours (reported).
            if hasEnded || waitUntilEnded(milliseconds: 1000) {
                usableFlag.store(false, ordering: .releasing)
                return .failure(.goneBeforeRequest)
            }
            return .failure(.failed(SandboxError(.supervisionFailed, "the Python zygote closed a submission's socket without starting a box")))
        case .failed(let error):
            close(reply.0)
            usableFlag.store(false, ordering: .releasing)  // a hung zygote is replaced
            return .failure(.failed(error))
        case .message(let answer):
            if answer.answer?.box != nil, answer.fds.count == 1 { return .success(Started(boxPidfd: answer.fds[0], reply: reply.0)) }
            for fd in answer.fds { close(fd) }
            close(reply.0)
            return .failure(.failed(SandboxError(.supervisionFailed, "the Python zygote could not start a box: \(answer.text)")))
        }
    }

    /// The wait status of the box `started`, once it has ended; closes its reply socket.
    func awaitStatus(_ started: Started) throws(SandboxError) -> Int32 {
        defer { close(started.reply) }
        switch receive(started.reply, what: "a submission's end") {
        case .message(let answer):
            for fd in answer.fds { close(fd) }
            guard let status = answer.answer?.status else {
                throw SandboxError(.supervisionFailed, "the Python zygote reported no status: \(answer.text)")
            }
            return Int32(truncatingIfNeeded: status)
        case .gone:
            throw SandboxError(.supervisionFailed, "the Python zygote ended during a submission: \(stderrTail())")
        case .failed(let error):
            throw error
        }
    }

    /// Whether the zygote process has ended (its pidfd is readable).
    private var hasEnded: Bool { waitUntilEnded(milliseconds: 0) }

    private func waitUntilEnded(milliseconds: Int32) -> Bool {
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) == 1
    }

    private func stderrTail() -> String {
        var buffer = [UInt8](repeating: 0, count: 4000)
        let size = lseek(stderrFD, 0, SEEK_END)
        let n = pread(stderrFD, &buffer, buffer.count, max(0, size - off_t(buffer.count)))
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : "(no output)"
    }

    /// Ends the zygote and every box it has running (they are in its pid namespace). Its
    /// descriptors and root go when the last run holding it lets go (deinit).
    func stop() {
        usableFlag.store(false, ordering: .releasing)
        Shim.kill(pidfd: pidfd)
    }

    deinit {
        Shim.kill(pidfd: pidfd)
        var status: Int32 = 0
        while waitpid(pid, &status, __WALL) < 0 && errno == EINTR {}
        close(pidfd)
        close(control)
        close(stderrFD)
        var root = root
        root.destroy()
    }
}

/// The zygotes of one sandbox: one per key (a preamble in use), the least recently used of more
/// than `maximum` stopped.
final class ZygoteTable: Sendable {
    private struct State {
        var zygotes: [PythonZygote] = []  // most recently used last
        var started = 0
    }
    private let state = Mutex(State())
    /// Serializes starts, so concurrent first runs start one zygote, not one each.
    private let starting = Mutex(())
    static let maximum = 4

    /// The zygote for `key`, started if there is none (or the last one failed).
    func zygote(for key: PythonZygote.Key, sandbox: Sandbox) throws(SandboxError) -> PythonZygote {
        if let found = lookUp(key) { return found }
        return try starting.withLock { _ throws(SandboxError) -> PythonZygote in
            if let found = lookUp(key) { return found }
            let index = state.withLock { s in
                s.started += 1
                return s.started
            }
            let started = try PythonZygote.start(key: key, rootPath: "\(sandbox.directory)/zygote-\(index)", sandbox: sandbox)
            let evicted: [PythonZygote] = state.withLock { s in
                s.zygotes.append(started)
                let over = max(0, s.zygotes.count - Self.maximum)
                let gone = Array(s.zygotes.prefix(over))
                s.zygotes.removeFirst(over)
                return gone
            }
            for z in evicted { z.stop() }
            return started
        }
    }

    private func lookUp(_ key: PythonZygote.Key) -> PythonZygote? {
        let (found, dead): (PythonZygote?, [PythonZygote]) = state.withLock { s in
            let dead = s.zygotes.filter { !$0.usable }
            s.zygotes.removeAll { !$0.usable }
            guard let index = s.zygotes.firstIndex(where: { $0.key == key }) else { return (nil, dead) }
            let z = s.zygotes.remove(at: index)
            s.zygotes.append(z)
            return (z, dead)
        }
        for z in dead { z.stop() }
        return found
    }

    /// Forgets a zygote that failed; it is replaced on the next run.
    func discard(_ zygote: PythonZygote) {
        state.withLock { s in s.zygotes.removeAll { $0 === zygote } }
        zygote.stop()
    }

    var processIDs: [pid_t] { state.withLock { s in s.zygotes.filter(\.usable).map(\.pid) } }

    func stopAll() {
        let all = state.withLock { s in
            defer { s.zygotes = [] }
            return s.zygotes
        }
        for z in all { z.stop() }
    }
}

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
