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
        private let fd: Int32
        init(firstUid: uid_t, fd: Int32) {
            self.firstUid = firstUid
            self.fd = fd
        }
        deinit { close(fd) }  // releases the lock
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
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                return Claim(firstUid: uid_t(block * blockSize), fd: fd)
            }
            close(fd)
        }
        throw SandboxError(.hostSetupFailed, "all \(blockCount) uid blocks are held by live assay processes")
    }
}
