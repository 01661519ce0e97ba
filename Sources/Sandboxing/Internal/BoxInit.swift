import Foundation
import Glibc

/// Finds `assay-box-init`, the pid 1 of every box (Sources/BoxInit/main.c).
enum BoxInitLocator {
    static func locate(configured: String?) throws(SandboxError) -> String {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let env = ProcessInfo.processInfo.environment["ASSAY_BOX_INIT"], !env.isEmpty { candidates.append(env) }
        // Beside the running binary: .build/<config>/assay and the test bundle both live there.
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent
            candidates.append(dir + "/assay-box-init")
        }
        candidates.append("/usr/local/libexec/assay/assay-box-init")
        for path in candidates where access(path, X_OK) == 0 { return path }
        throw SandboxError(.hostSetupFailed,
            "cannot find assay-box-init (looked in: \(candidates.joined(separator: ", "))); build it with `swift build` or set ASSAY_BOX_INIT")
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
