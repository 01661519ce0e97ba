import ArgumentParser
import Rewards
import Sandboxing

/// How Python tests run, for every command that grades (`grade`, `curate`, `serve`).
struct ExecutorOptions: ParsableArguments {
    @Option(help: "How Python tests run: warm (one box per submission, a fresh process forked per test from an interpreter that imported the preamble once) or cold (a fresh box per test; consecutive calls share one).")
    var executor = "warm"

    func validate() throws {
        guard ["warm", "cold"].contains(executor) else { throw ValidationError("--executor must be warm or cold, got '\(executor)'") }
    }

    func makeExecutor(sandbox: Sandbox, catalog: ProfileCatalog) throws(SandboxError) -> any SubmissionExecutor {
        executor == "cold"
            ? try SandboxExecutor(sandbox: sandbox, catalog: catalog)
            : try WarmPythonExecutor(sandbox: sandbox, catalog: catalog)
    }
}
