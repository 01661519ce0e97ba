import Foundation
import Glibc

/// Finds a file built beside assay (`swift build` puts every product in one directory).
enum BuiltFileLocator {
    /// `configured`, then `$environmentVariable`, then beside the running executable, then
    /// /usr/local/libexec/assay: the first that `access(mode)` allows.
    static func locate(_ name: String, configured: String?, environmentVariable: String, mode: Int32) throws(SandboxError) -> String {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { candidates.append(env) }
        // Beside the running binary: .build/<config>/assay and the test bundle both live there.
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent
            candidates.append(dir + "/" + name)
        }
        candidates.append("/usr/local/libexec/assay/" + name)
        for path in candidates where access(path, mode) == 0 { return path }
        throw SandboxError(.hostSetupFailed,
            "cannot find \(name) (looked in: \(candidates.joined(separator: ", "))); build it with `swift build` or set \(environmentVariable)")
    }

    /// `assay-box-init`, the pid 1 of every box (Sources/BoxInit/main.c).
    static func boxInit(configured: String?) throws(SandboxError) -> String {
        try locate("assay-box-init", configured: configured, environmentVariable: "ASSAY_BOX_INIT", mode: X_OK)
    }

    /// The Python zygote's engine (Sources/ZygoteEngine), which each zygote loads from its /app.
    static func zygoteEngine(configured: String?) throws(SandboxError) -> String {
        try locate(ZygoteProgram.engineFileName, configured: configured, environmentVariable: "ASSAY_ZYGOTE_ENGINE", mode: R_OK)
    }
}

/// The record the box init writes on its status pipe (see Sources/BoxInit/main.c).
enum BoxInitRecord {
    case exited(status: Int32)
    case execFailed(errno: Int32)
    case forkFailed(errno: Int32)

    static func read(from fd: Int32) -> BoxInitRecord? {
        var record: (Int32, Int32) = (0, 0)
        let n = withUnsafeMutableBytes(of: &record) { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n == MemoryLayout<(Int32, Int32)>.size else { return nil }
        switch record.0 {
        case 1: return .exited(status: record.1)
        case 2: return .execFailed(errno: record.1)
        case 3: return .forkFailed(errno: record.1)
        default: return nil
        }
    }
}
