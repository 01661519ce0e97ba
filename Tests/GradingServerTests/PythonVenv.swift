import Foundation
import Testing

/// A Python venv made by one of `integrations/tests/setup_*venv.sh` (packages from PyPI), and
/// running Python scripts with a time limit. Under CI (`CI=true`, set by `.ci/run`) a venv that
/// cannot be made fails the tests that need it; elsewhere they are skipped, saying why.
struct PythonVenv {
    /// The venv's python, or nil and why.
    let python: String?
    let failure: String

    static let requiredByCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs `setupScript` (relative to the repository root), which prints the venv's python.
    init(setupScript: String, what: String, timeout: Double) {
        let result = Result { try Self.run("/bin/sh", [TestEnv.repoRoot + "/" + setupScript], timeout: timeout) }
        let path = (try? result.get()).map { $0.0 == 0 ? $0.1.split(separator: "\n").last.map(String.init) ?? "" : "" } ?? ""
        if !path.isEmpty, FileManager.default.isExecutableFile(atPath: path) {
            (python, failure) = (path, "")
            return
        }
        let why = "\(what) could not be installed from PyPI into a venv (\(setupScript) failed: "
            + ((try? result.get()).map { "exit \($0.0): \($0.1.suffix(1500))" } ?? "\(result)") + ")"
        print(Self.requiredByCI ? "CI=true: these tests FAIL: \(why)" : "skipping these tests: \(why)")
        (python, failure) = (nil, why)
    }

    /// Runs `exe` in `directory` (default: the repository root); its stdout and stderr together.
    static func run(_ exe: String, _ args: [String], directory: String = TestEnv.repoRoot, timeout: Double) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `script` with the venv's python on a thread of its own (the call blocks).
    func runScript(_ script: String, _ args: [String], timeout: Double) async throws -> (Int32, String) {
        let python = try #require(python, "CI=true requires the venv: \(failure)")
        return try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try Self.run(python, [TestEnv.repoRoot + "/" + script] + args, timeout: timeout) }) }.start()
        }
    }
}
