import Glibc

/// Whether a Sandbox's state directory `<state>/block-<k>` (its box mount points and template)
/// is in use: its Sandbox holds an exclusive `flock` on `<state>/block-<k>.lock` for its whole
/// life, which the kernel drops when the holder dies.
///
/// The uid block's own lock (`UidBlocks`) cannot tell this: a killed process's block is free at
/// once, and another assay process with another state directory may claim it before anything
/// sweeps this one, which left the dead process's mounts here for good.
///
/// Whoever holds the lock and is done with the directory unlinks the lock file before letting
/// go of it. So a lock taken on a file that was unlinked meanwhile (someone opened it just
/// before) is no lock at all: every taker checks that the path still names the file it locked,
/// and tries again if not.
final class StateDirectoryLock: Sendable {
    private let fd: Int32
    let path: String

    /// Takes the lock of `directory`, waiting while a sweeper holds it (briefly, to remove a
    /// leftover of the same name).
    init(directory: String) throws(SandboxError) {
        path = directory + ".lock"
        guard let fd = Self.lock(path, wait: true) else {
            throw SandboxError(.hostSetupFailed, "cannot lock \(path)", errno: errno)
        }
        self.fd = fd
    }

    deinit { close(fd) }  // releases the lock

    /// Removes the lock file while still holding it (the Sandbox is done with the directory).
    func release() { unlink(path) }

    /// Runs `body` if no live process holds the lock of `directory`, holding it meanwhile so no
    /// Sandbox starts there while its leftovers are removed; the lock file goes with them.
    @discardableResult
    static func ifAbandoned(_ directory: String, _ body: () -> Void) -> Bool {
        let path = directory + ".lock"
        guard let fd = lock(path, wait: false) else { return false }
        body()
        unlink(path)
        close(fd)
        return true
    }

    /// An fd holding the lock on the file `path` names now, or nil (errno set) when it cannot be
    /// had (without `wait`: another process holds it).
    private static func lock(_ path: String, wait: Bool) -> Int32? {
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { return nil }
            var rc: Int32
            repeat { rc = flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) } while rc != 0 && errno == EINTR
            if rc != 0 {
                let err = errno
                close(fd)
                errno = err
                return nil
            }
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                return fd
            }
            close(fd)  // unlinked (and maybe recreated) since it was opened: take the new one
        }
    }
}
