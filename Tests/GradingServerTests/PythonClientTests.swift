import Foundation
import GradingServer
import Testing

/// The real `sandbox-fusion` client from PyPI and the Python integrations against a live server.
/// Skipped, saying why, when the client cannot be installed (no network to PyPI), except under
/// CI (`CI=true`, set by `.ci/run`): there a missing client is a failure, not a skip.
@Suite("Python clients (sandbox-fusion from PyPI, verl, TRL)", .serialized, .onServerThreads)
struct PythonClientTests {
    /// The venv's python, or why there is none.
    static let client: (python: String?, failure: String) = {
        let setup = TestEnv.repoRoot + "/integrations/tests/setup_venv.sh"
        let result = Result { try run("/bin/sh", [setup], timeout: 150) }
        let path = (try? result.get()).map { $0.0 == 0 ? $0.1.trimmingCharacters(in: .whitespacesAndNewlines) : "" } ?? ""
        guard path.isEmpty else { return (path, "") }
        let why = "the sandbox-fusion client could not be installed from PyPI into a venv (integrations/tests/setup_venv.sh failed: "
            + ((try? result.get()).map { "exit \($0.0): \($0.1.suffix(1500))" } ?? "\(result)") + ")"
        print(requireClient ? "CI=true: the Python client tests FAIL: \(why)" : "skipping the Python client tests: \(why)")
        return (nil, why)
    }()
    static var python: String? { client.python }
    /// Under CI a missing client fails the tests instead of skipping them.
    static let requireClient = ProcessInfo.processInfo.environment["CI"] == "true"

    static func run(_ exe: String, _ args: [String], timeout: Double) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
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

    static func check(_ backend: any ExecutionBackend, real: Bool) async throws {
        let python = try #require(Self.python, "CI=true requires the Python client: \(Self.client.failure)")
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.quiet = true }, executor: ServerThreads.shared)
        let script = TestEnv.repoRoot + "/integrations/tests/check_clients.py"
        let url = "http://127.0.0.1:\(server.port)"
        let (status, out) = try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try run(python, [script, url] + (real ? ["real"] : []), timeout: 120) }) }.start()
        }
        try await server.stop()
        #expect(status == 0, "\(out)")
        #expect(out.contains("OK"), "\(out)")
    }

    @Test(.enabled(if: python != nil || requireClient)) func stubBackend() async throws {
        try await Self.check(StubBackend(), real: false)
    }

    @Test(.enabled(if: (python != nil || requireClient) && TestEnv.isRoot && (TestEnv.sandboxBackend != nil || requireClient)))
    func realSandbox() async throws {
        try await Self.check(try #require(TestEnv.sandboxBackend, "CI=true requires the sandbox backend"), real: true)
    }
}
