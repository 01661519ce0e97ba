import CSandbox
import Glibc

/// Processes left running with a uid block's uids after the Sandbox that held the block died.
///
/// A box dies with the thread that started it (its pid 1 has a parent-death signal, spawn.c),
/// but assay may be killed in the instant between a box's clone and that signal being set. The
/// uid block's lock is free then while the box runs on: before a block is handed out again (or
/// its leftovers removed) whatever still runs with its uids is killed, so a new run never shares
/// a uid, a pids limit or a cgroup with an orphan.
enum StrayProcesses {
    /// Kills every process with a uid in `uids` and waits until none is left (a killed process
    /// takes a moment to exit). Returns false when some survive about two seconds of this, or
    /// /proc cannot be read: the caller must not hand those uids out then.
    static func kill(uids: ClosedRange<uid_t>) -> Bool {
        for attempt in 0..<200 {
            let found = csandbox_kill_uid_range(uids.lowerBound, uids.upperBound)
            if found == 0 { return true }
            if found < 0 { return false }
            usleep(attempt < 20 ? 1_000 : 10_000)
        }
        return false
    }
}
