import Foundation
import Rewards

/// Verification results by problem hash, in a JSONL file appended as results arrive, so a run
/// that crashes keeps the work it finished and the next run verifies only what changed.
///
/// The key (`key(_:settings:)`) hashes the problem as native JSON (statement, tests, reference
/// solutions, limits, checker), the unsplit tests, and the grader settings, so changing any of
/// them misses the cache. Sandbox errors are never stored (they are retried). A torn last line
/// (a crash mid-write) is ignored.
public final class VerificationCache: @unchecked Sendable {
    /// Bumped when the meaning of a stored result changes.
    static let version = "assay-curate-verify-1"
    public let path: String
    private var entries: [String: VerificationResult] = [:]
    private let lock = NSLock()
    private let handle: FileHandle
    /// Lines in the file that could not be read (torn or foreign).
    public private(set) var unreadableLines = 0

    /// Opens (creating) the cache at `path`.
    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw CurationError("cannot create the verification cache '\(path)': check that its directory exists and is writable, or pass --cache FILE")
            }
        }
        guard let h = FileHandle(forUpdatingAtPath: path) else {
            throw CurationError("cannot open the verification cache '\(path)' for writing; pass --cache FILE to use another file")
        }
        handle = h
        let data = h.readDataToEndOfFile()
        var torn = false
        for raw in [UInt8](data).split(separator: UInt8(ascii: "\n")) {
            guard let v = try? JSONValue(parsing: raw), let key = v["key"]?.stringValue, let r = Self.decode(v) else { unreadableLines += 1; continue }
            entries[key] = r
        }
        if let last = data.last, last != UInt8(ascii: "\n") { torn = true }
        h.seekToEndOfFile()
        if torn { h.write(Data("\n".utf8)) }  // the next entry starts on its own line
    }

    deinit { try? handle.close() }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    /// The cache key of an item under grader settings (`settings` names executor and limits).
    public static func key(_ item: CurationItem, settings: String) -> String {
        // Without the id: the output id can change with the other inputs (collisions get a prefix).
        var p = item.problem
        p.id = ""
        var text = version + "\n" + settings + "\n" + NativeWriter.line(p) + "\n"
        if let u = item.unsplitTests { text += JSONValue.array(u.map(NativeWriter.test)).jsonText }
        return StableHash.hex128(text)
    }

    public func lookup(_ key: String) -> VerificationResult? {
        lock.lock(); defer { lock.unlock() }
        guard var r = entries[key] else { return nil }
        r.cached = true
        return r
    }

    /// Stores and appends a result (errors are not stored).
    public func store(_ key: String, id: String, _ r: VerificationResult) {
        guard r.status != .error else { return }
        var o: [(String, JSONValue)] = [("key", .string(key)), ("id", .string(id)), ("status", .string(r.status.rawValue))]
        o.append(("passes", .array(r.passes.map { row in .string(String(row.map { $0 ? "1" : "0" })) })))
        if let m = r.materializedTests { o.append(("tests", .array(m.map(NativeWriter.test)))) }
        if !r.detail.isEmpty { o.append(("detail", .string(r.detail))) }
        let line = JSONValue.object(o).jsonText + "\n"
        lock.lock(); defer { lock.unlock() }
        entries[key] = r
        handle.write(Data(line.utf8))
    }

    static func decode(_ v: JSONValue) -> VerificationResult? {
        guard let s = v["status"]?.stringValue, let status = VerificationResult.Status(rawValue: s), status != .error,
              let rows = v["passes"]?.arrayValue else { return nil }
        var passes: [[Bool]] = []
        for row in rows {
            guard let t = row.stringValue else { return nil }
            passes.append(t.map { $0 == "1" })
        }
        var tests: [TestCase]?
        if let m = v["tests"]?.arrayValue {
            // The native reader parses tests only as part of a problem: wrap them in one.
            let wrapper = JSONValue.object([("id", "cache"), ("entry_point", "f"), ("tests", .array(m))])
            guard let p = try? ProblemLoader.adapt(wrapper, index: 0, format: .native) else { return nil }
            tests = p.tests
        }
        return VerificationResult(status: status, passes: passes, materializedTests: tests, detail: v["detail"]?.stringValue ?? "")
    }
}

/// A user-facing error: the message says what was wrong and what to do.
public struct CurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}
