import Glibc
import Synchronization

/// The hardened executor. One instance serves any number of concurrent runs; each run gets its
/// own pid, mount, ipc and uts namespaces, a pooled empty network namespace, a capped tmpfs
/// root, its own cgroups, an unprivileged uid, no capabilities and a seccomp filter.
///
/// `run` blocks its thread until the program ends; call it from a dedicated thread or a
/// thread pool, not from Swift's cooperative executor.
public final class Sandbox: Sendable {
    public struct Configuration: Sendable {
        /// Host directory for box mount points and the sanitized /etc (created, mode 0700).
        public var stateDirectory: String
        /// Lowest uid runs may use. Each ``Sandbox`` claims its own block of 4096 uids at or above
        /// it (across processes too, see `UidBlocks`), and slot `n` of the block runs as
        /// `blockStart + n`, so no two live runs on the host share a uid.
        public var uidBase: uid_t
        /// Run even when the host lacks cgroup controllers, with weaker limits (RLIMIT_AS instead
        /// of a memory cgroup, RLIMIT_NPROC instead of pids, RLIMIT_CPU and wall time only).
        /// Every such gap is listed in ``Sandbox/warnings``.
        public var allowWeakerIsolation: Bool
        /// The box init (`assay-box-init`); nil: `$ASSAY_BOX_INIT`, then beside the running executable.
        public var initBinary: String?
        /// The Python zygote's engine (`libassay-zygote.so`); nil: `$ASSAY_ZYGOTE_ENGINE`, then
        /// beside the running executable. Looked for when the first zygote starts.
        public var zygoteEngine: String?
        /// How long a Python zygote may take to answer (its start, a box's start, a box's end)
        /// before it counts as hung: it is then killed and replaced, and the run that waited is a
        /// sandbox error. Only a hung zygote reaches it; a healthy one answers in milliseconds.
        public var zygoteAnswerTimeoutSeconds: Double

        public init(stateDirectory: String = "/run/assay", uidBase: uid_t = 2_000_000,
                    allowWeakerIsolation: Bool = false, initBinary: String? = nil, zygoteEngine: String? = nil,
                    zygoteAnswerTimeoutSeconds: Double = 60) {
            self.stateDirectory = stateDirectory
            self.uidBase = uidBase
            self.allowWeakerIsolation = allowWeakerIsolation
            self.initBinary = initBinary
            self.zygoteEngine = zygoteEngine
            self.zygoteAnswerTimeoutSeconds = zygoteAnswerTimeoutSeconds
        }
    }

    public let configuration: Configuration
    /// Isolation layers this host lacks; empty in the default (full) mode.
    public let warnings: [String]
    let directory: String
    let initBinary: String
    let template: HostTemplate
    private let cgroups: CgroupLayout
    private let cgroupName: String
    let slots: SlotPool
    private let uidBlock: UidBlocks.Claim
    private let stateLock: StateDirectoryLock
    private let filters = Mutex<[SandboxProfile.Seccomp: SeccompFilter]>([:])
    let artefacts = ArtefactCache(capacity: 256)
    /// The Python zygotes (the warm path), one per preamble in use, started on first use or by
    /// `prewarmPythonZygotes`.
    let zygotes = ZygoteTable()

    /// Host pids of the Python zygotes this sandbox holds now (diagnostics and tests).
    public var pythonZygoteProcessIDs: [pid_t] { zygotes.processIDs }

    private static let instanceCounter = Atomic<Int>(0)

    /// Checks the host and prepares the shared state.
    /// - Throws: ``SandboxError`` with code `isolationUnavailable` naming the missing layer.
    public init(configuration: Configuration = Configuration()) throws(SandboxError) {
        self.configuration = configuration
        guard geteuid() == 0 else {
            throw SandboxError(.isolationUnavailable,
                "assay's sandbox must run as root: it creates pid, mount, network, ipc and uts namespaces, mounts a private root and manages cgroups. Run it as root (sudo), or in a container started with --privileged")
        }
        signal(SIGPIPE, SIG_IGN)
        let builtInit = try BuiltFileLocator.boxInit(configured: configuration.initBinary)
        // The state directory and the cgroups are named after the uid block this instance holds:
        // their liveness is the block's lock (valid across pid namespaces), and no pid shows in
        // a box's mountinfo.
        uidBlock = try UidBlocks.claim(uidBase: configuration.uidBase)
        let block = uidBlock.block
        directory = "\(configuration.stateDirectory)/block-\(block)"
        cgroupName = "assay-block-\(block)"

        var layout = CgroupLayout.detect(subtreeName: cgroupName)
        var warnings = try layout.refuseOrWarn(allowWeaker: configuration.allowWeakerIsolation)
        layout.removeStaleSubtrees(prefix: "assay-block-", ownBlock: block)
        if configuration.allowWeakerIsolation {
            do { try layout.createSubtrees() } catch {
                warnings.append("cgroups unusable (\(error.message)): limits fall back to rlimits")
                layout = CgroupLayout()
            }
        } else {
            try layout.createSubtrees()
        }
        cgroups = layout
        self.warnings = warnings

        try Self.makeDirectory(configuration.stateDirectory)
        stateLock = try StateDirectoryLock(directory: directory)
        HostTemplate.removeStaleStateDirectories(in: configuration.stateDirectory, ownBlock: block)
        try Self.makeDirectory(directory)
        template = try HostTemplate(directory: directory, initSource: builtInit)
        // Boxes bind the copy in the state directory, not the build directory's file.
        initBinary = template.initBinary
        ExitCleanup.register(directory: directory, cgroups: layout, lock: stateLock)
        slots = SlotPool(uidBase: uidBlock.firstUid, directory: directory, poolNetworkNamespaces: true, cgroups: layout)

        // One real run proves every layer works here before any verdict is trusted.
        do throws(SandboxError) {
            let probe = try execute(argv: ["/usr/bin/true"], environment: [], files: [], stdin: [], limits: Limits(cpuTimeSeconds: 5),
                                    seccomp: SandboxProfile.Seccomp(), collect: nil).result
            guard probe.verdict == .ok else {
                throw SandboxError(.isolationUnavailable, "the sandbox self-test (/usr/bin/true) ended with \(probe.verdict.rawValue): \(probe.stderrText)")
            }
        } catch where error.code == .spawnFailed {
            throw SandboxError(.isolationUnavailable,
                "the sandbox self-test failed while entering the sandbox; the host or container refuses this layer (a container needs --privileged, or at least CAP_SYS_ADMIN and no seccomp profile blocking mount/clone)",
                stage: error.stage, errno: error.errno)
        }
    }

    deinit {
        zygotes.stopAll()
        // Still holding the block's lock (uidBlock is released after this body).
        ExitCleanup.remove(directory: directory, cgroups: cgroups, lock: stateLock)
    }

    private static func makeDirectory(_ path: String) throws(SandboxError) {
        if mkdir(path, 0o700) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create \(path); pass a writable state directory", errno: errno)
        }
    }

    // MARK: - Running

    /// The uids this sandbox's runs use (its claimed block): a host-side check for stray
    /// processes looks for these.
    public var uidRange: ClosedRange<uid_t> { uidBlock.firstUid...(uidBlock.firstUid + uid_t(UidBlocks.blockSize) - 1) }

    /// The base environment of every run: minimal, and one thread per numeric library so a
    /// program's threads do not crowd out other boxes.
    static let baseEnvironment: [String: String] = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/work", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    ]

    struct Execution {
        var result: RunResult
        var collected: [UInt8]?
        /// `exchange.fetch` files read back after the run.
        var fetched: [String: [UInt8]] = [:]
    }

    /// Runs `argv` in a fresh box. `collect` names a file in /work to read back (an artefact).
    func execute(argv: [String], environment: [String], files: [BoxFile], stdin: [UInt8], limits: Limits,
                 seccomp: SandboxProfile.Seccomp, collect: String?, collectLimit: Int = 0,
                 collectIsOptional: Bool = false,
                 outOfMemoryMarkers: [String] = [],
                 exchange: WorkDirExchange? = nil) throws(SandboxError) -> Execution {
        try limits.validate()
        let filter = try filter(for: seccomp)
        let slot = try slots.acquire()
        defer { slots.release(slot) }

        var box = Box(slot: slot)
        defer { box.destroy() }
        try box.create(limits: limits, files: files, template: template, workFileBytes: exchange?.files.reduce(0) { $0 + $1.contents.count } ?? 0)
        if let exchange { try box.placeWorkFiles(exchange.files) }

        // The box init is ours, not the program's: it gets a process slot of its own on top.
        var processLimits = limits
        processLimits.maxProcesses += 1
        let cgroup = slot.cgroup
        try cgroup?.begin(processLimits)

        let stdinFD = Shim.sealedMemfd(stdin)
        guard stdinFD >= 0 else { throw SandboxError(.hostSetupFailed, "cannot create the stdin memfd", errno: -stdinFD) }
        var open: [Int32] = [stdinFD]
        defer { for fd in open { close(fd) } }
        let stdoutPipe = try Shim.pipe()
        open += [stdoutPipe.read, stdoutPipe.write]
        let stderrPipe = try Shim.pipe()
        open += [stderrPipe.read, stderrPipe.write]
        let statusPipe = try Shim.pipe()
        open += [statusPipe.read, statusPipe.write]
        try FileOps.giveToBox([stdinFD, stdoutPipe.write, stderrPipe.write], uid: slot.uid)

        let spec = SpawnSpec(
            // assay-box-init is pid 1 and the program pid 2, with ordinary signal semantics.
            path: Box.initPath, argv: [Box.initPath] + argv,
            environment: environment,
            stdinFD: stdinFD, stdoutFD: stdoutPipe.write, stderrFD: stderrPipe.write,
            statusFD: statusPipe.write,
            cgroupProcsFDs: cgroup?.procsFDs ?? [],
            root: box.root,
            mounts: box.mountPlan(template: template, initBinary: initBinary),
            workdir: "/work", netnsFD: slot.netnsFD,
            cloneFlags: Shim.boxCloneFlags,
            hostname: "assay", rlimits: rlimits(for: processLimits, hasCgroup: cgroup != nil),
            uid: slot.uid, gid: slot.uid, filter: filter)
        let start = Shim.nowNanoseconds()
        let spawned = try Shim.spawn(spec)
        // The child holds its own copies now. The parent's write ends must close, or the pipes
        // would never reach EOF; the supervisor owns (and closes) the read ends.
        open = [statusPipe.read]
        for fd in [stdinFD, stdoutPipe.write, stderrPipe.write, statusPipe.write] { close(fd) }

        var outcome = try Shim.supervise(Shim.Watch(
            pid: spawned.pid, pidfd: spawned.pidfd, stdoutFD: stdoutPipe.read, stderrFD: stderrPipe.read,
            stdoutCap: limits.maxStdoutBytes, stderrCap: limits.maxStderrBytes,
            wallLimitNanoseconds: Int64(limits.wallTimeSeconds * 1e9),
            cpuLimitNanoseconds: Int64(limits.cpuTimeSeconds * 1e9),
            cpuUsageFD: cgroup?.cpuFD ?? -1, cpuUsageFormat: cgroup?.cpuFormat ?? 0,
            cpuBaselineNanoseconds: cgroup?.cpuBaselineNanoseconds ?? 0, startNanoseconds: start))

        // Every writer of the status pipe is dead now: this read sees the init's record, then EOF.
        switch BoxInitRecord.read(from: statusPipe.read) {
        case .exited(let status): outcome.waitStatus = status
        case .execFailed(let err):
            throw SandboxError(.spawnFailed, "the box could not start \(argv[0])", stage: "exec", errno: err)
        case .forkFailed(let err):
            throw SandboxError(.spawnFailed, "the box's init could not start the program (the box was not empty)",
                               stage: "init-fork", errno: err)
        case nil: break  // killed before the program ended: the init's own status (SIGKILL) stands
        }

        let usage = ResourceUsage(
            peakMemoryBytes: cgroup?.peakMemoryBytes ?? Int(outcome.maxRSSBytes),
            oomKills: cgroup?.oomKillsSinceBegin ?? 0, memoryLimitHits: cgroup?.limitHitsSinceBegin ?? 0)
        let result = VerdictRules.classify(outcome: outcome, usage: usage, limits: limits, outOfMemoryMarkers: outOfMemoryMarkers)
        var collected: [UInt8]?
        if let collect, result.verdict == .ok {
            do {
                collected = try box.readWorkFile(collect, limit: collectLimit)
            } catch where collectIsOptional && error.code == .artefactUnavailable {
                // The program did not leave a usable file: that is its result, not a sandbox fault.
                collected = nil
            }
        }
        let fetched = try exchange.map { (e) throws(SandboxError) in try box.fetchWorkFiles(e.fetch, limit: e.fetchLimitBytes) } ?? [:]
        return Execution(result: result, collected: collected, fetched: fetched)
    }

    func rlimits(for limits: Limits, hasCgroup: Bool) -> [(resource: Int32, soft: UInt64, hard: UInt64)] {
        // RLIMIT_CPU is only a backstop behind the ≤100 ms cgroup polling: soft one second past
        // the limit delivers SIGXCPU, hard one more second kills (hard == soft would SIGKILL at once).
        let cpuSoft = UInt64(limits.cpuTimeSeconds.rounded(.up)) + 1
        var list: [(resource: Int32, soft: UInt64, hard: UInt64)] = [
            (Int32(RLIMIT_CPU.rawValue), cpuSoft, cpuSoft + 1),
            (Int32(RLIMIT_FSIZE.rawValue), UInt64(limits.maxFileSizeBytes), UInt64(limits.maxFileSizeBytes)),
            (Int32(RLIMIT_NOFILE.rawValue), UInt64(limits.maxOpenFiles), UInt64(limits.maxOpenFiles)),
            (Int32(RLIMIT_STACK.rawValue), UInt64(limits.stackBytes), UInt64(limits.stackBytes)),
            (Int32(RLIMIT_CORE.rawValue), 0, 0),
            // Per uid, and each run has a uid of its own: a backstop behind the pids cgroup.
            (Shim.rlimitNPROC, UInt64(limits.maxProcesses), UInt64(limits.maxProcesses)),
            // POSIX message queues live in the ipc namespace but their memory is not capped otherwise.
            (Shim.rlimitMSGQUEUE, 0, 0),
            // Every other limit is set too: one left out is inherited from whatever started assay
            // (a shell, systemd, a container runtime), so a box's limits would vary by host.
            // (Numbers are Linux's generic ones, the same on x86_64 and aarch64; boxfs.c checks
            // them against the system headers.)
            // Locked memory escapes the memory cgroup's reclaim; 64 KiB is the kernel's default.
            (8 /* RLIMIT_MEMLOCK */, 64 << 10, 64 << 10),
            // No real-time scheduling and no raising of priority: 0 is "nice may not go below
            // 20 - 0", i.e. never below where it starts (nsjail and isolate use 0).
            (14 /* RLIMIT_RTPRIO */, 0, 0),
            (13 /* RLIMIT_NICE */, 0, 0),
            // Real-time CPU without blocking, in µs: moot without RTPRIO, set to the CPU backstop.
            (15 /* RLIMIT_RTTIME */, cpuSoft * 1_000_000, cpuSoft * 1_000_000),
            // Queued signals, per uid (each run has its own): bounds the kernel memory a program
            // can pin with sigqueue; the host default is tens of thousands.
            (11 /* RLIMIT_SIGPENDING */, 1024, 1024),
            // File locks are denied by seccomp (and this limit is not enforced since Linux 2.4.25).
            (10 /* RLIMIT_LOCKS */, 0, 0),
        ]
        if !hasCgroup || cgroups.memory == nil {
            // Weaker mode only: address space is a poor proxy for memory (it turns Python's
            // MemoryError into RE and breaks runtimes that reserve address space).
            list.append((Int32(RLIMIT_AS.rawValue), UInt64(limits.memoryBytes), UInt64(limits.memoryBytes)))
        } else {
            // Memory is the cgroup's: no inherited address-space limit may stand in for it.
            list.append((Int32(RLIMIT_AS.rawValue), UInt64.max, UInt64.max))
        }
        // Data segment and resident set: unlimited, for the same reason (RSS is not enforced).
        list.append((Int32(RLIMIT_DATA.rawValue), UInt64.max, UInt64.max))
        list.append((5 /* RLIMIT_RSS */, UInt64.max, UInt64.max))
        return list
    }

    func filter(for seccomp: SandboxProfile.Seccomp) throws(SandboxError) -> SeccompFilter {
        if let cached = filters.withLock({ $0[seccomp] }) { return cached }
        let built = try SeccompFilter(deny: seccomp.deny, kill: seccomp.kill)
        return filters.withLock { cache in
            if let existing = cache[seccomp] { return existing }
            cache[seccomp] = built
            return built
        }
    }

    /// Size of the seccomp program for `seccomp` in BPF instructions (diagnostics).
    public func filterInstructionCount(for seccomp: SandboxProfile.Seccomp) throws(SandboxError) -> Int {
        try filter(for: seccomp).instructionCount
    }
}
