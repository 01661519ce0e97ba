import Glibc

/// Hands each ``Sandbox`` (in any process on the host) its own block of uids.
///
/// Runs are told apart by uid as well as by namespaces: RLIMIT_NPROC counts per uid across the
/// whole host, and files a run creates are owned by its uid. Two assay processes (a daemon and a
/// CLI call, or parallel tests) must therefore never hand out the same uid. A block is held by an
/// exclusive `flock` on `<state>/uids/block-<k>.lock`, which the kernel drops when the holder dies,
/// so a crashed process never leaks its block.
enum UidBlocks {
    static let blockSize = 4096
    static let blockCount = 256

    final class Claim: Sendable {
        let firstUid: uid_t
        /// The block's number `k` (its lock file is `<k>.lock`): names this Sandbox's state
        /// directory and cgroups, so their liveness is this lock's, whatever pid namespace the
        /// holder runs in.
        let block: Int
        private let fd: Int32
        init(firstUid: uid_t, block: Int, fd: Int32) {
            self.firstUid = firstUid
            self.block = block
            self.fd = fd
        }
        deinit { close(fd) }  // releases the lock
    }

    /// Runs `body` if block `k` is held by no live process (in any pid namespace), holding its
    /// lock meanwhile so no process claims the block while its leftovers are removed. Returns
    /// false (without running `body`) when a live process holds it: this one included, since a
    /// second open file description of a locked file does not get the lock either.
    @discardableResult
    static func ifAbandoned(block: Int, _ body: () -> Void) -> Bool {
        // No lock file: nobody ever claimed the block here, so nobody holds it.
        let fd = open("\(lockDirectory)/\(block).lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            guard errno == ENOENT, StrayProcesses.kill(uids: uids(of: block)) else { return false }
            body()
            return true
        }
        defer { close(fd) }
        // A dead holder's boxes may still run (see StrayProcesses): their mounts and cgroups
        // can only go once they are dead.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, StrayProcesses.kill(uids: uids(of: block)) else { return false }
        body()
        return true
    }

    /// The uids of block `k`.
    static func uids(of block: Int) -> ClosedRange<uid_t> {
        uid_t(block * blockSize)...uid_t(block * blockSize + blockSize - 1)
    }

    /// The block number `k` in a name `<prefix><k>`, or nil.
    static func block(in name: String, prefix: String) -> Int? {
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count))
    }

    static let lockDirectory = "/run/assay-uids"

    /// Claims the first free block at or above `uidBase`.
    static func claim(uidBase: uid_t) throws(SandboxError) -> Claim {
        let dir = lockDirectory
        if mkdir(dir, 0o700) < 0 && errno != EEXIST {
            throw SandboxError(.hostSetupFailed, "cannot create \(dir)", errno: errno)
        }
        let first = (Int(uidBase) + blockSize - 1) / blockSize
        for block in first..<(first + blockCount) {
            let fd = open("\(dir)/\(block).lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 { throw SandboxError(.hostSetupFailed, "cannot open \(dir)/\(block).lock", errno: errno) }
            // Never a block whose uids a dead holder's box still runs with: those processes
            // are killed first, and a block where some survive is skipped.
            if flock(fd, LOCK_EX | LOCK_NB) == 0, StrayProcesses.kill(uids: uids(of: block)) {
                return Claim(firstUid: uid_t(block * blockSize), block: block, fd: fd)
            }
            close(fd)
        }
        throw SandboxError(.hostSetupFailed, "all \(blockCount) uid blocks are held by live assay processes or still run processes that could not be killed (see ps -eo uid,pid,stat,cmd)")
    }
}
