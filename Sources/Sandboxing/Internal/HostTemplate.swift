import Glibc
import Synchronization

/// What every box shares, prepared once per ``Sandbox`` in its state directory and bound
/// read-only into each box: a sanitized /etc, a minimal /dev and a copy of the box init.
/// Preparing them once keeps the per-run work to a handful of mounts.
///
/// A bind mount's source path shows in the box's /proc/self/mountinfo (its "root" field), so
/// everything bound comes from here: the state directory is named after the uid block
/// (`block-<k>`), not after assay's pid, and the init is a copy, not the build directory's file.
struct HostTemplate {
    let etc: String
    let dev: String
    /// The copy of `assay-box-init` the boxes bind.
    let initBinary: String
    /// Top-level system paths: a symlink into /usr on merged-/usr hosts (Debian 12), else a
    /// directory to bind read-only.
    let systemLinks: [(name: String, isLink: Bool)]

    static let devices = ["null", "zero", "full", "random", "urandom"]

    init(directory: String, initSource: String) throws(SandboxError) {
        etc = directory + "/etc"
        dev = directory + "/dev"
        initBinary = directory + "/assay-box-init"
        systemLinks = ["bin", "lib", "lib64", "sbin"].compactMap { name in
            var st = stat()
            guard lstat("/" + name, &st) == 0 else { return nil }
            return (name, (st.st_mode & S_IFMT) == S_IFLNK)
        }
        Self.remove(etc)
        Self.remove(dev)
        unlink(initBinary)
        try makeEtc()
        try makeDev()
        try copyInit(from: initSource)
    }

    /// Copies the box init (a small static binary) into the state directory.
    private func copyInit(from source: String) throws(SandboxError) {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError(.hostSetupFailed, "cannot read the box init \(source)", errno: errno) }
        let bytes = FileOps.readAll(fd: fd, limit: 64 << 20)
        close(fd)
        guard let bytes else { throw SandboxError(.hostSetupFailed, "cannot read the box init \(source)") }
        // Executed in every box: no child cloned meanwhile may inherit the write descriptor
        // (ETXTBSY, see SpawnFence).
        let rc = SpawnFence.writing { FileOps.create(initBinary, contents: bytes, mode: 0o555) }
        if rc != 0 { throw SandboxError(.hostSetupFailed, "cannot copy the box init to \(initBinary)", errno: rc) }
    }

    /// The /etc a box sees: a few generated files, the host's dynamic-linker cache and its
    /// alternatives links, nothing else (no /etc/shadow, no host names, no credentials).
    private func makeEtc() throws(SandboxError) {
        try Self.mkdirOrThrow(etc)
        let files: [(String, String)] = [
            ("passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
            ("group", "root:x:0:\nnogroup:x:65534:\n"),
            ("hosts", "127.0.0.1 localhost\n::1 localhost\n"),
            ("hostname", "assay\n"),
            ("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"),
        ]
        for (name, text) in files {
            let rc = FileOps.create(etc + "/" + name, contents: Array(text.utf8), mode: 0o644)
            if rc != 0 { throw SandboxError(.hostSetupFailed, "cannot write \(etc)/\(name)", errno: rc) }
        }
        // Without the cache the dynamic linker still finds libraries in the default paths, only slower.
        let cache = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC)
        if cache >= 0 {
            let bytes = FileOps.readAll(fd: cache, limit: 64 << 20)
            close(cache)
            if let bytes { _ = FileOps.create(etc + "/ld.so.cache", contents: bytes, mode: 0o644) }
        }
        _ = symlink("/usr/share/zoneinfo/Etc/UTC", etc + "/localtime")
        // Debian's alternatives are symlinks into /usr (cc, the BLAS numpy loads): copy the links.
        try Self.mkdirOrThrow(etc + "/alternatives")
        for name in FileOps.entries("/etc/alternatives") {
            var target = [CChar](repeating: 0, count: 4096)
            let n = readlink("/etc/alternatives/" + name, &target, target.count - 1)
            guard n > 0 else { continue }
            target[n] = 0
            _ = symlink(target, etc + "/alternatives/" + name)
        }
    }

    /// Device nodes made with the host's numbers, plus the usual /proc links and a mount point
    /// for /dev/shm. Bound read-only (and noexec, nosuid) into every box.
    private func makeDev() throws(SandboxError) {
        try Self.mkdirOrThrow(dev)
        for name in Self.devices {
            var st = stat()
            guard stat("/dev/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else {
                throw SandboxError(.hostSetupFailed, "/dev/\(name) is missing or not a character device on this host")
            }
            if mknod(dev + "/" + name, S_IFCHR | 0o666, st.st_rdev) < 0 || chmod(dev + "/" + name, 0o666) < 0 {
                throw SandboxError(.hostSetupFailed, "cannot create the device node \(dev)/\(name)", errno: errno)
            }
        }
        for (link, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                               ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")]
        where symlink(target, dev + "/" + link) < 0 {
            throw SandboxError(.hostSetupFailed, "cannot create \(dev)/\(link)", errno: errno)
        }
        try Self.mkdirOrThrow(dev + "/shm")
    }

    func remove() {
        Self.remove(etc)
        Self.remove(dev)
        unlink(initBinary)
    }

    /// Removes the state directories in `stateDirectory` that no live Sandbox uses (theirs crashed
    /// or was killed; see StateDirectoryLock), and the leftover of this process's own block.
    /// Before their mounts go, whatever still runs with the uids of a block no one holds is killed.
    static func removeStaleStateDirectories(in stateDirectory: String, ownBlock: Int) {
        for name in FileOps.entries(stateDirectory) {
            guard let block = UidBlocks.block(in: name, prefix: "block-") else { continue }
            let path = stateDirectory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            if block == ownBlock {
                removeStateDirectory(path)
            } else {
                StateDirectoryLock.ifAbandoned(path) {
                    UidBlocks.ifAbandoned(block: block) {}
                    removeStateDirectory(path)
                }
            }
        }
    }

    /// Removes a whole state directory `<state>/block-<k>` left by a process that is gone (or by
    /// this one): the template removed, every other directory in it (the mount points of boxes,
    /// `box-<n>`, and of Python zygotes' roots, `zygote-<n>`, whatever a newer kind is named)
    /// lazily unmounted and removed, then the directory itself. Never follows symlinks and never
    /// deletes recursively (rmdir: an unmounted mount point is empty); the caller holds the
    /// block's lock, so nobody creates it meanwhile.
    static func removeStateDirectory(_ directory: String) {
        remove(directory + "/etc")
        remove(directory + "/dev")
        unlink(directory + "/assay-box-init")
        for name in FileOps.entries(directory) {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            _ = Shim.unmountBox(path)  // EINVAL where nothing is mounted
            rmdir(path)
        }
        rmdir(directory)
    }

    private static func mkdirOrThrow(_ path: String) throws(SandboxError) {
        if mkdir(path, 0o755) < 0 { throw SandboxError(.hostSetupFailed, "cannot create \(path)", errno: errno) }
    }

    /// Removes a template directory (two levels deep at most; never follows symlinks).
    private static func remove(_ path: String) {
        for name in FileOps.entries(path) {
            let child = path + "/" + name
            var st = stat()
            if lstat(child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                for inner in FileOps.entries(child) { unlink(child + "/" + inner) }
                rmdir(child)
            } else {
                unlink(child)
            }
        }
        rmdir(path)
    }
}

/// The state directories and cgroups of this process's live Sandboxes, removed when the process
/// exits. A Sandbox that lives until the end (a global, a static of a test suite, or one an
/// executor or a worker still references when `assay grade` returns) never reaches its deinit,
/// and exit() runs no deinit; atexit handlers do run.
enum ExitCleanup {
    private struct State: Sendable {
        var cgroups: CgroupLayout
        var lock: StateDirectoryLock
    }
    private static let live = Mutex<[String: State]>([:])
    private static let installed = Atomic<Bool>(false)

    static func register(directory: String, cgroups: CgroupLayout, lock: StateDirectoryLock) {
        live.withLock { $0[directory] = State(cgroups: cgroups, lock: lock) }
        if !installed.exchange(true, ordering: .acquiringAndReleasing) {
            atexit { ExitCleanup.removeAll() }
        }
    }

    /// Removes one Sandbox's state now (its deinit) and forgets it.
    static func remove(directory: String, cgroups: CgroupLayout, lock: StateDirectoryLock) {
        live.withLock { _ = $0.removeValue(forKey: directory) }
        CgroupLayout.removeTrees(cgroups)
        HostTemplate.removeStateDirectory(directory)
        lock.release()
    }

    private static func removeAll() {
        let all = live.withLock { table in
            defer { table = [:] }
            return table
        }
        for (directory, state) in all {
            CgroupLayout.removeTrees(state.cgroups)
            HostTemplate.removeStateDirectory(directory)
            state.lock.release()
        }
    }
}
