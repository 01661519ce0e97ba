import Foundation
import GradingServer
import Testing

/// schemathesis (from PyPI) against a live server: the OpenAPI document must describe the server
/// as it is. Skipped, saying why, when schemathesis cannot be installed (no network to PyPI),
/// except under CI (`CI=true`): there that is a failure.
@Suite("OpenAPI conformance (schemathesis)", .serialized, .onServerThreads)
struct SchemathesisTests {
    static let venv = PythonVenv(setupScript: "integrations/tests/setup_schemathesis.sh", what: "schemathesis", timeout: 300)

    /// Every check on every operation, but one: whether a schema-valid request is accepted. An
    /// inline problem is read by the adapter its format names (TACO, LiveCodeBench, MBPP, ...),
    /// and OpenRLHF's `labels` must be as many as its `query`: JSON Schema cannot state either, so
    /// those operations answer some schema-valid bodies with a 400 that says what is wrong.
    /// That check runs on the operations it can hold for.
    static let runs: [[String]] = [
        ["--checks", "all", "--exclude-checks", "positive_data_acceptance"],
        ["--checks", "positive_data_acceptance",
         "--include-path-regex", #"^/(run_code|v1/ping|healthz|metrics|openapi\.json|v1/jobs/\{id\})$"#],
    ]

    @Test(.enabled(if: venv.python != nil || PythonVenv.requiredByCI))
    func theDocumentDescribesTheServer() async throws {
        let python = try #require(Self.venv.python, "CI=true requires schemathesis: \(Self.venv.failure)")
        let schemathesis = (python as NSString).deletingLastPathComponent + "/schemathesis"
        let server = try await InProcessServer.start(TestEnv.config(StubBackend()) { $0.quiet = true }, executor: ServerThreads.shared)
        let url = "http://127.0.0.1:\(server.port)/openapi.json"
        for run in Self.runs {
            // A fixed seed, no example database, and a directory of its own: the cases then follow
            // from the seed and the server alone. Hypothesis replays the examples in .hypothesis/
            // and schemathesis its .schemathesis/ cache from wherever it runs; in the shared
            // temporary directory those held what earlier runs found (other seeds, other commits,
            // the first of these runs), so a run with this seed reported another run's case.
            let directory = NSTemporaryDirectory() + "assay-schemathesis-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let arguments = ["run", url, "--max-examples", "25", "--workers", "1", "--seed", "20261202",
                             "--generation-database", "none", "--no-color"] + run
            let (status, out) = try await withCheckedThrowingContinuation { c in
                Thread { c.resume(with: Result { try PythonVenv.run(schemathesis, arguments, directory: directory, timeout: 400) }) }.start()
            }
            #expect(status == 0, "schemathesis \(run.joined(separator: " ")):\n\(out.suffix(6000))")
        }
        try await server.stop()
    }
}
