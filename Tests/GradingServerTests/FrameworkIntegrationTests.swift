import Foundation
import GradingServer
import Testing

/// The integrations inside the frameworks' own code, from PyPI: verl 0.9.1's reward loop
/// composed from its Hydra config (`integrations/tests/check_verl.py`) and TRL's GRPOTrainer
/// (`check_trl.py`), each against a live server on the real sandbox. The venv (verl, TRL and
/// torch, about 6 GB) is made once per machine by `setup_framework_venv.sh`, a few minutes.
@Suite("verl and TRL integrations in their frameworks", .serialized, .onServerThreads)
struct FrameworkIntegrationTests {
    static let venv = PythonVenv(setupScript: "integrations/tests/setup_framework_venv.sh", what: "verl and TRL", timeout: 1200)
    static var enabled: Bool {
        (venv.python != nil || PythonVenv.requiredByCI) && TestEnv.isRoot && (TestEnv.sandboxBackend != nil || PythonVenv.requiredByCI)
    }

    static func check(_ script: String) async throws {
        _ = try #require(venv.python, "CI=true requires verl and TRL: \(venv.failure)")
        let backend = try #require(TestEnv.sandboxBackend, "CI=true requires the sandbox backend")
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.quiet = true }, executor: ServerThreads.shared)
        let (status, out) = try await venv.runScript(script, ["http://127.0.0.1:\(server.port)"], timeout: 300)
        try await server.stop()
        #expect(status == 0, "\(out.suffix(4000))")
        #expect(out.split(separator: "\n").contains("OK"), "\(out.suffix(4000))")
    }

    @Test(.enabled(if: enabled)) func verlRewardLoop() async throws {
        try await Self.check("integrations/tests/check_verl.py")
    }

    @Test(.enabled(if: enabled)) func trlGRPOTrainer() async throws {
        try await Self.check("integrations/tests/check_trl.py")
    }
}
