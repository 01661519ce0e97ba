import CSandbox
import Foundation
import Glibc

// The only file that imports CSandbox. Pointers handed to C stay inside `withUnsafe…` scopes or
// in `CStringArray`s that outlive the call.

/// A compiled seccomp program. The corresponding C function is `csandbox_filter_build`.
final class SeccompFilter: @unchecked Sendable {
    // Immutable after init and only read by the child (through the C pointer): safe to share.
    let pointer: OpaquePointer
    /// The BPF program's bytes (struct sock_filter, 8 bytes each), as a zygote's box loads it
    /// (``ZygoteBoxRequest``): copied once per filter, not once per run.
    let instructions: [UInt8]

    init(deny: [String], kill: [String]) throws(SandboxError) {
        let denyNames = CStringArray(deny), killNames = CStringArray(kill)
        var out: OpaquePointer?
        var bad = [CChar](repeating: 0, count: 64)
        var policy = csandbox_policy()
        policy.deny_count = deny.count
        policy.deny_errno = EPERM
        policy.kill_count = kill.count
        let rc = denyNames.withPointers { denyPtr in
            killNames.withPointers { killPtr in
                policy.deny_names = UnsafePointer(OpaquePointer(denyPtr))
                policy.kill_names = UnsafePointer(OpaquePointer(killPtr))
                return csandbox_filter_build(&policy, &out, &bad)
            }
        }
        guard rc == 0, let out else {
            let name = bad.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw SandboxError(.invalidConfiguration,
                name.isEmpty ? "cannot build the seccomp filter" : "seccomp rule for '\(name)' is invalid (unknown syscall or conflicting rule)",
                errno: rc)
        }
        pointer = out
        let base = csandbox_filter_instructions(out).assumingMemoryBound(to: UInt8.self)
        instructions = Array(UnsafeBufferPointer(start: base, count: csandbox_filter_length(out) * 8))
    }

    var instructionCount: Int { csandbox_filter_length(pointer) }

    deinit { csandbox_filter_free(pointer) }
}

/// NUL-terminated C strings that live as long as this object.
final class CStringArray {
    private var storage: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        storage = strings.map { strdup($0) } + [nil]
    }

    func withPointers<R>(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }

    func pointer(at index: Int) -> UnsafeMutablePointer<CChar> { storage[index]! }

    deinit { for p in storage { free(p) } }
}

/// One mount of the plan, in host paths (the child executes the plan before pivot_root).
struct MountStep {
    enum Kind { case bindReadOnly, bindDevice, selfWritableNoExec, bindWritableNoExec, proc }
    var kind: Kind
    var source: String?
    var target: String
}

struct SpawnSpec {
    var path: String
    var argv: [String]
    var environment: [String]
    var stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32
    var statusFD: Int32
    /// Descriptors the program inherits after 0-2 (and the status pipe): see `inherit_fds`.
    var inheritedFDs: [Int32] = []
    var cgroupProcsFDs: [Int32]
    var root: String?
    var mounts: [MountStep]
    var workdir: String
    var netnsFD: Int32
    var cloneFlags: UInt
    var hostname: String?
    var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]
    var uid: uid_t
    var gid: gid_t
    var filter: SeccompFilter?
    /// CAP_* numbers a Python zygote keeps as uid 0 (see `zygote_caps`); empty for every box.
    var zygoteCapabilities: [Int] = []
}

/// The names of csandbox_stage, for errors.
func stageName(_ stage: csandbox_stage) -> String {
    switch stage {
    case CSANDBOX_STAGE_CLONE: "clone"
    case CSANDBOX_STAGE_SIGNALS: "signals"
    case CSANDBOX_STAGE_CGROUP: "cgroup"
    case CSANDBOX_STAGE_SESSION: "session"
    case CSANDBOX_STAGE_MOUNT: "mount"
    case CSANDBOX_STAGE_PIVOT_ROOT: "pivot_root"
    case CSANDBOX_STAGE_NETNS: "netns"
    case CSANDBOX_STAGE_HOSTNAME: "hostname"
    case CSANDBOX_STAGE_CHDIR: "chdir"
    case CSANDBOX_STAGE_FDS: "fds"
    case CSANDBOX_STAGE_RLIMIT: "rlimit"
    case CSANDBOX_STAGE_CAPABILITIES: "capabilities"
    case CSANDBOX_STAGE_CREDENTIALS: "credentials"
    case CSANDBOX_STAGE_NO_NEW_PRIVS: "no_new_privs"
    case CSANDBOX_STAGE_SECCOMP: "seccomp"
    case CSANDBOX_STAGE_EXEC: "exec"
    default: "unknown"
    }
}

enum Shim {
    /// Highest capability number of the running kernel (new kernels add capabilities).
    static let capLast: Int32 = {
        FileOps.readInt("/proc/sys/kernel/cap_last_cap").map(Int32.init) ?? 40
    }()

    /// Starts the child. The corresponding C function is `csandbox_spawn`.
    static func spawn(_ spec: SpawnSpec) throws(SandboxError) -> (pid: pid_t, pidfd: Int32) {
        let argv = CStringArray(spec.argv), envp = CStringArray(spec.environment)
        let strings = CStringArray([spec.path, spec.workdir, spec.root ?? "", spec.hostname ?? ""])
        let mountStrings = CStringArray(spec.mounts.flatMap { [$0.source ?? "", $0.target] })
        var mounts: [csandbox_mount] = spec.mounts.enumerated().map { i, m in
            let kind: csandbox_mount_kind = switch m.kind {
            case .bindReadOnly: CSANDBOX_MOUNT_BIND_RO
            case .bindDevice: CSANDBOX_MOUNT_BIND_DEV
            case .selfWritableNoExec: CSANDBOX_MOUNT_SELF_RW_NOEXEC
            case .bindWritableNoExec: CSANDBOX_MOUNT_BIND_RW_NOEXEC
            case .proc: CSANDBOX_MOUNT_PROC
            }
            return csandbox_mount(kind: kind, source: UnsafePointer(mountStrings.pointer(at: 2 * i)),
                                  target: UnsafePointer(mountStrings.pointer(at: 2 * i + 1)))
        }
        var rlimits = spec.rlimits.map { csandbox_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        var procs = spec.cgroupProcsFDs
        var inherited = spec.inheritedFDs
        var out = csandbox_spawned()
        let rc: Int32 = argv.withPointers { argvPtr in
            envp.withPointers { envpPtr in
                mounts.withUnsafeMutableBufferPointer { mountsPtr in
                    rlimits.withUnsafeMutableBufferPointer { rlimitsPtr in
                        procs.withUnsafeMutableBufferPointer { procsPtr in
                          inherited.withUnsafeMutableBufferPointer { inheritedPtr in
                            var args = csandbox_spawn_args()
                            args.path = UnsafePointer(strings.pointer(at: 0))
                            args.argv = UnsafePointer(argvPtr)
                            args.envp = UnsafePointer(envpPtr)
                            args.stdin_fd = spec.stdinFD
                            args.stdout_fd = spec.stdoutFD
                            args.stderr_fd = spec.stderrFD
                            args.status_fd = spec.statusFD
                            args.inherit_fds = UnsafePointer(inheritedPtr.baseAddress)
                            args.inherit_count = inheritedPtr.count
                            args.cgroup_procs_fds = UnsafePointer(procsPtr.baseAddress)
                            args.cgroup_procs_count = procsPtr.count
                            args.root = spec.root == nil ? nil : UnsafePointer(strings.pointer(at: 2))
                            args.mounts = UnsafePointer(mountsPtr.baseAddress)
                            args.mount_count = mountsPtr.count
                            args.workdir = UnsafePointer(strings.pointer(at: 1))
                            args.netns_fd = spec.netnsFD
                            args.clone_flags = spec.cloneFlags
                            args.hostname = spec.hostname == nil ? nil : UnsafePointer(strings.pointer(at: 3))
                            args.rlimits = UnsafePointer(rlimitsPtr.baseAddress)
                            args.rlimit_count = rlimitsPtr.count
                            args.uid = spec.uid
                            args.gid = spec.gid
                            args.cap_last = capLast
                            args.filter = spec.filter?.pointer
                            args.zygote_caps = spec.zygoteCapabilities.reduce(0) { $0 | (UInt64(1) << UInt64($1)) }
                            return SpawnFence.spawning { csandbox_spawn(&args, &out) }
                          }
                        }
                    }
                }
            }
        }
        guard rc == 0 else {
            let stage = stageName(out.failed_stage)
            throw SandboxError(.spawnFailed, "the sandboxed child failed before the program started", stage: stage, errno: rc)
        }
        return (out.pid, out.pidfd)
    }

    struct Watch {
        var pid: pid_t, pidfd: Int32
        var stdoutFD: Int32, stderrFD: Int32
        var stdoutCap: Int, stderrCap: Int
        var wallLimitNanoseconds: Int64, cpuLimitNanoseconds: Int64
        var cpuUsageFD: Int32, cpuUsageFormat: Int32
        var cpuBaselineNanoseconds: Int64
        var startNanoseconds: Int64
    }

    /// The corresponding C function is `csandbox_now_ns`.
    static func nowNanoseconds() -> Int64 { csandbox_now_ns() }

    struct Outcome {
        var waitStatus: Int32
        var killed: KillReason
        var stdout: [UInt8], stderr: [UInt8]
        var wallNanoseconds: Int64, cpuNanoseconds: Int64
        var maxRSSBytes: Int64
    }

    /// Watches the run to its end. The corresponding C function is `csandbox_supervise`.
    static func supervise(_ w: Watch) throws(SandboxError) -> Outcome {
        var out = csandbox_outcome()
        var watch = csandbox_watch(
            pid: w.pid, pidfd: w.pidfd, stdout_fd: w.stdoutFD, stderr_fd: w.stderrFD,
            stdout_cap: w.stdoutCap, stderr_cap: w.stderrCap,
            wall_limit_ns: w.wallLimitNanoseconds, cpu_limit_ns: w.cpuLimitNanoseconds,
            cpu_usage_fd: w.cpuUsageFD, cpu_usage_format: w.cpuUsageFormat,
            poll_interval_ns: 50_000_000, start_ns: w.startNanoseconds,
            cpu_base_ns: w.cpuBaselineNanoseconds)
        let rc = csandbox_supervise(&watch, &out)
        guard rc == 0 else { throw SandboxError(.supervisionFailed, "supervising the run failed", errno: rc) }
        defer {
            free(out.stdout_data)
            free(out.stderr_data)
        }
        func bytes(_ p: UnsafeMutablePointer<UInt8>?, _ n: Int) -> [UInt8] {
            guard let p, n > 0 else { return [] }
            return Array(UnsafeBufferPointer(start: p, count: n))
        }
        return Outcome(waitStatus: out.wait_status, killed: killedReason(out.killed),
                       stdout: bytes(out.stdout_data, out.stdout_len), stderr: bytes(out.stderr_data, out.stderr_len),
                       wallNanoseconds: out.wall_ns, cpuNanoseconds: out.cpu_ns, maxRSSBytes: out.maxrss_bytes)
    }

    /// The corresponding C function is `csandbox_box_mount`.
    static func mountBox(_ path: String, sizeBytes: Int, inodes: Int) -> Int32 {
        csandbox_box_mount(path, UInt64(sizeBytes), UInt64(inodes))
    }

    /// The corresponding C function is `csandbox_box_unmount`.
    static func unmountBox(_ path: String) -> Int32 { csandbox_box_unmount(path) }

    /// The corresponding C function is `csandbox_open_beneath`. Returns an fd or -errno.
    static func openBeneath(_ dirFD: Int32, _ name: String) -> Int32 { csandbox_open_beneath(dirFD, name) }

    /// The corresponding C function is `csandbox_sealed_memfd`. Returns an fd or -errno.
    static func sealedMemfd(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { csandbox_sealed_memfd($0.baseAddress, $0.count) }
    }

    static let rlimitNPROC = Int32(CSANDBOX_RLIMIT_NPROC)
    static let rlimitMSGQUEUE = Int32(CSANDBOX_RLIMIT_MSGQUEUE)

    /// Namespaces each box gets fresh. The corresponding C function is `csandbox_box_clone_flags`.
    static let boxCloneFlags: UInt = csandbox_box_clone_flags()

    /// A close-on-exec pipe. The corresponding C function is `csandbox_pipe`.
    static func pipe() throws(SandboxError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let rc = fds.withUnsafeMutableBufferPointer { csandbox_pipe($0.baseAddress!) }
        guard rc == 0 else { throw SandboxError(.hostSetupFailed, "cannot create a pipe", errno: rc) }
        return (fds[0], fds[1])
    }

    /// The corresponding C function is `csandbox_netns_create`. Returns an fd or -errno.
    static func createNetworkNamespace() -> Int32 { csandbox_netns_create() }

    /// SIGKILL through a pidfd. The corresponding C function is `csandbox_pidfd_kill`.
    @discardableResult
    static func kill(pidfd: Int32) -> Int32 { csandbox_pidfd_kill(pidfd) }

    /// A close-on-exec SOCK_SEQPACKET pair. The corresponding C function is `csandbox_seqpacket_pair`.
    static func seqpacketPair() throws(SandboxError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let rc = fds.withUnsafeMutableBufferPointer { csandbox_seqpacket_pair($0.baseAddress!) }
        guard rc == 0 else { throw SandboxError(.hostSetupFailed, "cannot create a socket pair", errno: rc) }
        return (fds[0], fds[1])
    }

    /// Sends one message with descriptors. The corresponding C function is `csandbox_send_message`.
    /// Returns 0 or an errno.
    static func sendMessage(_ socket: Int32, _ bytes: [UInt8], fds: [Int32]) -> Int32 {
        let n = bytes.withUnsafeBufferPointer { b in
            fds.withUnsafeBufferPointer { f in csandbox_send_message(socket, b.baseAddress!, b.count, f.baseAddress, f.count) }
        }
        return n < 0 ? Int32(-n) : 0
    }

    /// Waits for one message. The corresponding C function is `csandbox_receive_message`.
    /// Returns the bytes (empty: the peer closed) and the descriptors, or an errno (ETIMEDOUT).
    static func receiveMessage(_ socket: Int32, timeoutMilliseconds: Int32) -> Result<([UInt8], [Int32]), SandboxErrno> {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var fds = [Int32](repeating: -1, count: 8)
        var count = 0
        let n = buffer.withUnsafeMutableBufferPointer { b in
            fds.withUnsafeMutableBufferPointer { f in
                csandbox_receive_message(socket, b.baseAddress!, b.count, f.baseAddress!, f.count, &count, timeoutMilliseconds)
            }
        }
        guard n >= 0 else { return .failure(SandboxErrno(value: Int32(-n))) }
        return .success((Array(buffer[..<n]), Array(fds[..<count])))
    }

    static func killedReason(_ r: csandbox_kill_reason) -> KillReason {
        switch r {
        case CSANDBOX_KILLED_WALL: .wall
        case CSANDBOX_KILLED_CPU: .cpu
        case CSANDBOX_KILLED_STDOUT: .stdout
        case CSANDBOX_KILLED_STDERR: .stderr
        default: .none
        }
    }
}

enum KillReason { case none, wall, cpu, stdout, stderr }

/// An errno from a shim call that reports failure as a value.
struct SandboxErrno: Error {
    var value: Int32
}
