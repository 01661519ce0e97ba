import ArgumentParser
import Foundation
import Glibc
import Rewards

/// The results of `assay grade`: one complete JSON line per response, known by its key.
enum ResultsFile {
    /// A response's key: its `id`, else the line it came from in the responses file.
    static func key(id: JSONValue?, responseLine: Int) -> String {
        id.map { "id:" + $0.jsonText } ?? "line:\(responseLine)"
    }

    /// Prepares the `--out` file of an interrupted run for resuming and returns the keys of the
    /// responses graded there. It keeps the first complete result of each response that has no
    /// error and drops the rest: a torn last line (a crash in the middle of a write; the next
    /// result would be appended onto it and both be lost), results with an error (they are
    /// graded again, and their new line must not sit beside the old one) and repeats. The file
    /// is rewritten only when something is dropped, into a temporary file renamed over it, so a
    /// crash meanwhile loses nothing.
    static func resume(_ path: String) throws -> Set<String> {
        let bytes = try readBytes(path, what: "results file")
        var keys = Set<String>()
        var kept: [ArraySlice<UInt8>] = []
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for raw in lines {
            guard let v = try? JSONValue(parsing: raw), case .object = v else { continue }
            if v["error"] != nil, v["reward"]?.isNull ?? true { continue }
            let id = v["id"].flatMap { $0.isNull ? nil : $0 }
            guard id != nil || v["response_line"]?.intValue != nil else { continue }
            let key = key(id: id, responseLine: v["response_line"]?.intValue ?? 0)
            guard keys.insert(key).inserted else { continue }
            kept.append(raw)
        }
        let complete = bytes.isEmpty || bytes.last == UInt8(ascii: "\n")
        if kept.count == lines.count && complete { return keys }
        var text: [UInt8] = []
        for line in kept { text += line; text.append(UInt8(ascii: "\n")) }
        let temporary = path + ".resume-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text)), rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ValidationError("cannot rewrite the results file '\(path)' for resuming: \(String(cString: strerror(errno)))")
        }
        return keys
    }
}

/// Writes whole lines to a descriptor (stdout or the `--out` file) and notices when that stops
/// working, for good: a reader that went away (`assay grade … | head -1`: EPIPE, since SIGPIPE
/// is ignored) or a disk error. Thread-safe.
final class LineWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let fd: Int32
    private var failure: Int32 = 0

    init(fd: Int32) { self.fd = fd }

    /// Opens `path` for appending, creating it.
    convenience init(appendingTo path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot write --out '\(path)': \(String(cString: strerror(errno)))") }
        self.init(fd: fd)
    }

    /// The errno of the first failed write; 0 while every write has worked.
    var error: Int32 { lock.withLock { failure } }

    /// Writes `line` and a newline; false (and nothing more is ever written) once a write failed.
    func write(_ line: String) -> Bool {
        lock.withLock {
            guard failure == 0 else { return false }
            let bytes = Array((line + "\n").utf8)
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return false
                }
                done += n
            }
            return true
        }
    }
}
