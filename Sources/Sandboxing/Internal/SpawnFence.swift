import Glibc

/// Keeps a box's files from being open for writing while another thread's child is being born.
///
/// The host writes a compiled binary into a box and the box then executes it. If another thread
/// clones its own box child while that file is open for writing, the new child holds a copy of
/// the descriptor until it execs (close-on-exec closes it only then), and an exec of the binary
/// in that window fails with ETXTBSY, "Text file busy" (seen with 64 clients on 2 workers; Go's
/// golang/go#22315 is the same race). So: a spawn holds the fence shared from before clone until
/// clone returns, which with CLONE_VFORK is after the child's exec; a box-file write holds it
/// exclusively from open to close. Spawns still run alongside each other; a writer waits only
/// for the spawns in flight (about half a millisecond each), and is preferred over new ones.
enum SpawnFence {
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_rwlock_t> = {
        let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        return lock
    }()

    /// Around a clone whose child execs before the call returns.
    static func spawning<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Around opening, writing and closing files that a box may execute.
    static func writing<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
