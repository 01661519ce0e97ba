import ArgumentParser
import Rewards
import Sandboxing

/// How Python tests run, for every command that grades (`grade`, `curate`, `serve`).
struct ExecutorOptions: ParsableArguments {
    @Option(help: "How Python tests run: warm (each submission is a fresh box forked from a clean zygote, an interpreter that imported the preamble once and never runs submitted code; a fresh process per test) or cold (a fresh box and interpreter per test).")
    var executor = "warm"

    func validate() throws {
        guard ["warm", "cold"].contains(executor) else { throw ValidationError("--executor must be warm or cold, got '\(executor)'") }
    }

    /// - Parameter concurrency: submissions graded at once; the warm executor starts that many
    ///   zygotes now.
    func makeExecutor(sandbox: Sandbox, catalog: ProfileCatalog, concurrency: Int) throws(SandboxError) -> any SubmissionExecutor {
        if executor == "cold" { return try SandboxExecutor(sandbox: sandbox, catalog: catalog) }
        let warm = try WarmPythonExecutor(sandbox: sandbox, catalog: catalog)
        try warm.prewarm(count: concurrency)
        return warm
    }
}
