import Glibc

/// A file's whole contents (a /proc file included), or nil when it cannot be opened or read.
///
/// Foundation's readers (`FileManager.contents(atPath:)`, `String(contentsOfFile:)`) stop after
/// the first read of a file whose size reads 0, as every /proc file's does: they returned the
/// first 4 KiB of mountinfo, and in the full suite, with the boxes and zygotes of the other tests
/// mounted, the mounts a test looked for were past that. Shared by the test targets that check
/// the host after a run.
public func wholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return n == 0 ? bytes : nil }
        bytes += buffer[..<n]
    }
}

/// `wholeFile` as UTF-8 text.
public func wholeTextFile(_ path: String) -> String? {
    wholeFile(path).map { String(decoding: $0, as: UTF8.self) }
}
