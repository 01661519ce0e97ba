import Glibc

/// A file the host places in the box's read-only `/app` before the run.
public struct BoxFile: Sendable, Hashable {
    public var name: String
    public var contents: [UInt8]
    public var executable: Bool
    public init(name: String, contents: [UInt8], executable: Bool = false) {
        self.name = name
        self.contents = contents
        self.executable = executable
    }
}

/// One run's private filesystem: a capped tmpfs the host mounts at the slot's box path, laid out
/// as the program's root. Unmounting it at the end frees everything the run wrote.
///
///     /usr            host /usr, read-only      /bin /lib /lib64 /sbin  -> usr/… (merged /usr)
///     /etc            sanitized, read-only      /dev   null zero full random urandom, fd, shm
///     /proc           procfs of the box         /app   source and artefacts, read-only
///     /work  /tmp     writable, noexec, owned by the run's uid
struct Box {
    let root: String
    let uid: uid_t
    private(set) var mounted = false

    /// Where the box init (assay-box-init, bound read-only from the copy in the state directory,
    /// see HostTemplate) appears in the box.
    static let initPath = "/.assay-init"

    init(slot: Slot) {
        self.init(root: slot.boxPath, uid: slot.uid)
    }

    init(root: String, uid: uid_t) {
        self.root = root
        self.uid = uid
    }

    /// `workFileBytes`: what the host will place in /work (``WorkDirExchange``), on top of the
    /// program's own work dir quota.
    /// `extraDirectories`: empty read-only directories at the root (a zygote's mount point for
    /// its boxes' own tmpfs).
    mutating func create(limits: Limits, files: [BoxFile], template: HostTemplate, workFileBytes: Int = 0,
                         extraDirectories: [String] = []) throws(SandboxError) {
        let appBytes = files.reduce(0) { $0 + $1.contents.count }
        let rc = Shim.mountBox(root, sizeBytes: limits.workDirBytes + appBytes + workFileBytes + (1 << 20), inodes: limits.workDirInodes + 64)
        guard rc == 0 else {
            throw SandboxError(.isolationUnavailable, "cannot mount the box tmpfs at \(root); assay needs CAP_SYS_ADMIN", errno: rc)
        }
        mounted = true
        func fail(_ what: String, _ err: Int32) -> SandboxError {
            SandboxError(.hostSetupFailed, "preparing the box: \(what)", errno: err)
        }
        for dir in ["usr", "etc", "dev", "proc", "app"] + extraDirectories where mkdir(root + "/" + dir, 0o755) < 0 {
            throw fail("mkdir \(dir)", errno)
        }
        for dir in ["work", "tmp"] {
            let path = root + "/" + dir
            if mkdir(path, 0o755) < 0 { throw fail("mkdir \(dir)", errno) }
            if chown(path, uid, uid) < 0 { throw fail("chown \(dir)", errno) }
        }
        for (name, isLink) in template.systemLinks {
            let made = isLink ? symlink("usr/" + name, root + "/" + name) : mkdir(root + "/" + name, 0o755)
            if made < 0 { throw fail("/\(name)", errno) }
        }
        let initRC = FileOps.create(root + Self.initPath, contents: [], mode: 0o555)
        if initRC != 0 { throw fail("init mount point", initRC) }
        for file in files {
            guard SandboxProfile.isPlainFileName(file.name) else {
                throw SandboxError(.invalidConfiguration, "box file name '\(file.name)' must be a plain file name")
            }
            // A compiled binary is executed in the box: no other box's child may inherit its
            // write descriptor (see SpawnFence).
            let path = root + "/app/" + file.name
            let rc = file.executable
                ? SpawnFence.writing { FileOps.create(path, contents: file.contents, mode: 0o555) }
                : FileOps.create(path, contents: file.contents, mode: 0o444)
            if rc != 0 { throw fail("app/\(file.name)", rc) }
        }
    }

    /// The mount plan the child executes before pivot_root (see spawn.c `apply_mounts`).
    func mountPlan(template: HostTemplate, initBinary: String) -> [MountStep] {
        var plan: [MountStep] = [
            MountStep(kind: .bindReadOnly, source: "/usr", target: root + "/usr"),
            MountStep(kind: .bindReadOnly, source: initBinary, target: root + Self.initPath),
            MountStep(kind: .bindReadOnly, source: template.etc, target: root + "/etc"),
            MountStep(kind: .bindDevice, source: template.dev, target: root + "/dev"),
        ]
        for (name, isLink) in template.systemLinks where !isLink {
            plan.append(MountStep(kind: .bindReadOnly, source: "/" + name, target: root + "/" + name))
        }
        plan.append(MountStep(kind: .selfWritableNoExec, source: nil, target: root + "/work"))
        plan.append(MountStep(kind: .selfWritableNoExec, source: nil, target: root + "/tmp"))
        // /dev/shm shares /tmp's tmpfs (POSIX semaphores, multiprocessing), so one cap covers both.
        plan.append(MountStep(kind: .bindWritableNoExec, source: root + "/tmp", target: root + "/dev/shm"))
        plan.append(MountStep(kind: .proc, source: nil, target: root + "/proc"))
        return plan
    }

    /// Reads `name` from /work after the run, refusing symlinks and anything not a regular file.
    /// - Throws: `artefactUnavailable` for what the program left (no such file, a symlink, not a
    ///   regular file, larger than `limit`); `hostSetupFailed` when the host could not read what is
    ///   there (out of descriptors or memory, a read error): a sandbox error, never the program's
    ///   result.
    func readWorkFile(_ name: String, limit: Int) throws(SandboxError) -> [UInt8] {
        // The program cannot remove or replace /work (a directory of the root-owned box root).
        let dir = open(root + "/work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { throw SandboxError(.hostSetupFailed, "cannot open the box's /work", errno: errno) }
        defer { close(dir) }
        let fd = Shim.openBeneath(dir, name)
        guard fd >= 0 else {
            guard Self.isLeftByTheProgram(openError: -fd) else {
                throw SandboxError(.hostSetupFailed, "cannot open /work/\(name) on the host", errno: -fd)
            }
            throw SandboxError(.artefactUnavailable,
                "/work/\(name) is missing, a symlink or not a regular file", errno: -fd)
        }
        defer { close(fd) }
        // Every process of the box is gone: the size cannot change any more.
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SandboxError(.hostSetupFailed, "cannot stat /work/\(name)", errno: errno) }
        guard Int(st.st_size) <= limit else {
            throw SandboxError(.artefactUnavailable, "/work/\(name) is larger than \(limit) bytes")
        }
        guard let bytes = FileOps.readAll(fd: fd, limit: limit) else {
            throw SandboxError(.hostSetupFailed, "cannot read /work/\(name) on the host", errno: errno)
        }
        return bytes
    }

    /// Whether `openBeneath` failed because of what the program left at the name (nothing, a
    /// symlink, a directory, a FIFO, a socket or a device, a mount crossing) or because no file
    /// can have that name, rather than for a reason of the host's (EMFILE, ENFILE, ENOMEM,
    /// EAGAIN, EINTR, EIO, ...).
    static func isLeftByTheProgram(openError: Int32) -> Bool {
        [ENOENT, ELOOP, EXDEV, EINVAL, ENOTDIR, EISDIR, ENXIO, ENAMETOOLONG].contains(openError)
    }

    mutating func destroy() {
        guard mounted else { return }
        _ = Shim.unmountBox(root)
        mounted = false
    }
}
