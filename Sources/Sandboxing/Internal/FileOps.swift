import Glibc

/// Small host-side file helpers over raw syscalls (Foundation's are slow on the hot path and
/// hide errno). Used only on files assay itself owns: cgroupfs and fresh boxes.
enum FileOps {
    /// Writes `text` to an existing file (cgroupfs control files).
    static func write(_ path: String, _ text: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { return errno }
        defer { close(fd) }
        let n = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        return n < 0 ? errno : 0
    }

    /// Reads a small file whole; nil when it cannot be read.
    static func read(_ path: String, limit: Int = 1 << 16) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return readAll(fd: fd, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads from `fd` until EOF or `limit` bytes; nil on a read error or when the file is longer.
    static func readAll(fd: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { return nil }
        }
    }

    /// Creates `path` with `contents` and `mode`; fails if it exists (never follows a symlink).
    static func create(_ path: String, contents: [UInt8], mode: mode_t) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 { return errno }
        defer { close(fd) }
        var done = 0
        while done < contents.count {
            let n = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return fchmod(fd, mode) < 0 ? errno : 0
    }

    /// Gives the descriptors' files (the run's stdin memfd and the write ends of its output pipes)
    /// to the box's uid. A pipe belongs to whoever created it, mode 0600; reopening it through
    /// /proc/self/fd, which is what `open("/dev/stdout")`, `echo x > /dev/stderr` and
    /// `fopen("/dev/stderr")` do, checks that mode, so a root-owned pipe fails with EACCES in the
    /// box. The status pipe is not given: it stays the supervisor's and the init's.
    static func giveToBox(_ fds: [Int32], uid: uid_t) throws(SandboxError) {
        for fd in fds where fchown(fd, uid, uid) < 0 {
            throw SandboxError(.hostSetupFailed, "cannot give the run's stdin/stdout/stderr to uid \(uid)", errno: errno)
        }
    }

    /// Parses the first integer in a file (cgroup counters).
    static func readInt(_ path: String) -> Int? {
        read(path).flatMap { Int($0.trimmed) }
    }

    /// Names in a directory, without "." and "..", or none when it cannot be read.
    static func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (no Foundation needed).
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
