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
    /// Fails closed: an unreadable /proc (or cmdline of a live process) is a finding.
    static func processes(containing token: String) -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch { return [Hostile.unreadable("/proc", error)] }
        return entries.compactMap { pid in
            guard pid.allSatisfy(\.isNumber) else { return nil }
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
                return access("/proc/\(pid)", F_OK) == 0 ? Hostile.unreadable("/proc/\(pid)/cmdline") : nil
            }
            return String(decoding: data, as: UTF8.self).contains(token) ? pid : nil
        }
    }

    /// Processes on the host owned by this sandbox's uids: must be none while no run is live.
    static func strayBoxProcesses() -> [String] {
        let range = sandbox.uidRange
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: "/proc") } catch { return [Hostile.unreadable("/proc", error)] }
        var stray: [String] = []
        for pid in entries where pid.allSatisfy(\.isNumber) {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
                if access("/proc/\(pid)", F_OK) == 0 { stray.append(Hostile.unreadable("/proc/\(pid)/status")) }
                continue
            }
            for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
                let fields = line.split(separator: "\t")
                if fields.count > 1, let uid = UInt32(fields[1]), range.contains(uid) { stray.append(pid) }
            }
        }
        return stray
    }
}
