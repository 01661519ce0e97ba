import Foundation
import GradingServer
import Testing

/// The real `sandbox-fusion` client from PyPI and the Python integrations against a live server.
/// Skipped, saying why, when the client cannot be installed (no network to PyPI), except under
/// CI (`CI=true`, set by `.ci/run`): there a missing client is a failure, not a skip.
@Suite("Python clients (sandbox-fusion from PyPI, verl, TRL)", .serialized, .onServerThreads)
struct PythonClientTests {
    static let venv = PythonVenv(setupScript: "integrations/tests/setup_venv.sh", what: "the sandbox-fusion client", timeout: 150)
    static var python: String? { venv.python }
    /// Under CI a missing client fails the tests instead of skipping them.
    static let requireClient = PythonVenv.requiredByCI

    static func check(_ backend: any ExecutionBackend, real: Bool) async throws {
        _ = try #require(venv.python, "CI=true requires the Python client: \(venv.failure)")
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.quiet = true }, executor: ServerThreads.shared)
        let url = "http://127.0.0.1:\(server.port)"
        let (status, out) = try await venv.runScript("integrations/tests/check_clients.py", [url] + (real ? ["real"] : []), timeout: 120)
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
