import Foundation
import Glibc
import Sandboxing

/// Paths and a shared sandbox for the tests.
enum TestSupport {
    /// The checkout root, found from this file's path.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let profilesDirectory = repositoryRoot + "/sandbox-profiles"

    /// The sandbox needs root (namespaces, mounts, cgroups); CI runs as root.
    static let isRoot = geteuid() == 0

    /// One sandbox for the whole test process, as a daemon would hold one.
    static let sandbox: Sandbox = {
        do { return try Sandbox() } catch { fatalError("cannot create the sandbox: \(error)") }
    }()

    static let catalog: ProfileCatalog = {
        do { return try ProfileCatalog(directory: profilesDirectory) } catch { fatalError("\(error)") }
    }()

    static func profile(_ name: String) -> SandboxProfile {
        do { return try catalog.profile(named: name) } catch { fatalError("\(error)") }
    }

    static func python(_ code: String, stdin: String = "", limits: Limits? = nil) throws -> RunResult {
        try sandbox.run(source: code, profile: profile("python3"), stdin: Array(stdin.utf8), limits: limits)
    }

    static func cpp(_ code: String, stdin: String = "", limits: Limits? = nil) throws -> RunResult {
        try sandbox.run(source: code, profile: profile("cpp"), stdin: Array(stdin.utf8), limits: limits)
    }

    /// Host processes whose command line contains `token`.
    static func processes(containing token: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.filter { pid in
            guard pid.allSatisfy(\.isNumber), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(token)
        }
    }

    /// Processes on the host owned by this sandbox's uids: must be none while no run is live.
    static func strayBoxProcesses() -> [String] {
        let range = sandbox.uidRange
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var stray: [String] = []
        for pid in entries where pid.allSatisfy(\.isNumber) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
                let fields = line.split(separator: "\t")
                if fields.count > 1, let uid = UInt32(fields[1]), range.contains(uid) { stray.append(pid) }
            }
        }
        return stray
    }
}
