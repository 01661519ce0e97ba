import ArgumentParser
import Foundation
import Glibc
import Rewards
import Sandboxing
import Training

/// `assay train`: GRPO+ on a recipe, every reward from the sandbox.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model with GRPO+ on a recipe; rewards come from grading its samples in the sandbox.",
        discussion: """
            The recipe (JSON) holds the run's whole configuration: see recipes/ and the README. The run directory gets \
            config.json, metrics.jsonl (one line per step), samples.jsonl and checkpoints/; --resume continues from the \
            newest checkpoint with the same recipe. Options given here override the recipe's values.
            """)

    @Option(help: "Recipe file (JSON).")
    var recipe: String

    @Option(name: .customLong("run-dir"), help: "Run directory (created; must not hold another run unless --resume).")
    var runDirectory: String

    @Flag(help: "Continue the run in --run-dir from its newest checkpoint.")
    var resume = false

    @Option(help: "Override the recipe's number of steps.")
    var steps: Int?

    @Option(help: "Override the recipe's pipelining: off or one-off.")
    var pipeline: String?

    @Option(help: "Override the recipe's Python executor for grading: warm or cold.")
    var executor: String?

    @Option(help: "Stop after this many steps of this invocation (then resume later).")
    var stopAfter: Int?

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        if let pipeline, PipelineMode(rawValue: pipeline) == nil { throw ValidationError("--pipeline must be off or one-off, got '\(pipeline)'") }
        if let executor, !["warm", "cold"].contains(executor) { throw ValidationError("--executor must be warm or cold, got '\(executor)'") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1") }
    }

    func run() throws {
        var recipe = try TrainingRecipe.load(path: self.recipe)
        if let steps { recipe.steps = steps }
        if let pipeline { recipe.pipeline = PipelineMode(rawValue: pipeline)! }
        if let executor { recipe.executor = executor }
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let cold = try SandboxExecutor(sandbox: sandbox, catalog: catalog)
        let submissionExecutor: any SubmissionExecutor = recipe.executor == "cold" ? cold : WarmPythonExecutor(cold: cold)
        var options = GraderOptions()
        options.maxTests = recipe.graderMaxTests
        options.timeLimitSeconds = recipe.graderTimeLimit
        options.defaultMemoryLimitMiB = recipe.graderMemoryMiB
        let run = try TrainingRun(recipe: recipe, directory: RunDirectory(path: runDirectory),
                                  grader: Grader(executor: submissionExecutor, options: options), resume: resume)
        let live = isatty(STDERR_FILENO) == 1
        let started = Date()
        var done = 0
        run.report = { r in
            done += 1
            let elapsed = Date().timeIntervalSince(started)
            let eta = elapsed / Double(done) * Double(max(r.steps - r.step - 1, 0))
            var line = String(format: "step %d/%d  reward %.3f  %.1f s/step  ETA %.0f s", r.step + 1, r.steps, r.rewardMean,
                              r.secondsPerStep, eta)
            if let p = r.heldOutPassAt1 { line += String(format: "  held-out pass@1 %.3f", p) }
            FileHandle.standardError.write(Data((live ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
        try run.run(limit: stopAfter)
        if live { FileHandle.standardError.write(Data("\n".utf8)) }
        print("run directory: \(runDirectory) (metrics.jsonl, samples.jsonl, checkpoints/)")
    }
}
