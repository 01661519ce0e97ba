import HostFiles
import Foundation
import Glibc
import Testing

/// What a killed `assay` process may leave on the host: processes (found by a token in their
/// command line), tmpfs mounts and state directories. Fails closed: an unreadable /proc or
/// mountinfo is recorded as an issue and reported as a leftover.
enum HostLeftovers {
    /// Live (not zombie) processes whose command line contains `token`.
    static func processes(containing token: String) -> [pid_t] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch {
            Issue.record("cannot list /proc: \(error)")
            return [-1]
        }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let data = wholeFile("/proc/\(name)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains(token), !isZombie(pid) else { return nil }
            return pid
        }
    }

    /// The real uid of `pid`, from /proc/<pid>/status.
    static func uid(of pid: pid_t) -> uid_t? {
        guard let data = wholeFile("/proc/\(pid)/status") else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        guard let data = wholeFile("/proc/\(pid)/status") else { return true }  // gone
        return String(decoding: data, as: UTF8.self).contains("State:\tZ")
    }

    /// Mount points at or below `directory`, from this process's mountinfo.
    static func mounts(under directory: String) -> [String] {
        guard let data = wholeFile("/proc/self/mountinfo") else {
            Issue.record("cannot read /proc/self/mountinfo")
            return ["unreadable mountinfo"]
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point == directory || point.hasPrefix(directory + "/") ? point : nil
        }
    }

    /// The Sandbox state directories (`block-<k>`, not their lock files) in a state directory.
    static func stateDirectories(_ state: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []).filter { $0.hasPrefix("block-") && !$0.hasSuffix(".lock") }
    }

    /// Polls `condition` every 50 ms for at most `seconds`; true once it holds. The bound is a
    /// liveness limit for a hung host, not a measure of speed.
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// A fresh directory under the temporary directory.
    static func temporaryDirectory(_ prefix: String) throws -> String {
        let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Removes a directory from ``temporaryDirectory(_:)``, lazily unmounting first whatever a
    /// failed test left mounted in it (a recursive delete would not cross a mount point).
    static func removeTemporaryDirectory(_ dir: String) {
        for point in mounts(under: dir).reversed() { umount2(point, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
