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

    @Option(name: .customLong("grader-url"), help: "Grade on a remote `assay serve` (POST /v1/grade, problems by id: start it with --data naming the recipe's data files) instead of in process.")
    var graderURL: String?

    @Option(name: .customLong("grader-token-file"), help: "File whose first line is the remote server's bearer token.")
    var graderTokenFile: String?

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
        let grader = try Self.grader(for: recipe, url: graderURL, tokenFile: graderTokenFile, sandboxOptions: sandboxOptions)
        let run = try TrainingRun(recipe: recipe, directory: RunDirectory(path: runDirectory), grader: grader, resume: resume)
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
        print("run directory: \(runDirectory) (metrics.jsonl, samples.jsonl, checkpoints/); `assay report \(runDirectory)` draws it")
        print(try Training.RunReport(directory: runDirectory).beforeAfterText(), terminator: "")
    }

    /// What grades a run's samples: a remote `assay serve` at `url`, else a `Grader` over the
    /// recipe's executor in this process's sandbox.
    static func grader(for recipe: TrainingRecipe, url graderURL: String?, tokenFile: String?,
                       sandboxOptions: SandboxOptions) throws -> any RewardSource {
        if let graderURL {
            guard let url = URL(string: graderURL), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--grader-url must be an http(s) URL such as http://127.0.0.1:8080, got '\(graderURL)'")
            }
            let token = try tokenFile.map { try readText($0, what: "token file").split(separator: "\n").first.map(String.init) ?? "" }
            return RemoteGrader(url: url, token: token, maxTests: recipe.graderMaxTests, timeLimit: recipe.graderTimeLimit,
                                memoryMiB: recipe.graderMemoryMiB)
        }
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        var executorOptions = ExecutorOptions()
        executorOptions.executor = recipe.executor
        let submissionExecutor = try executorOptions.makeExecutor(sandbox: sandbox, catalog: catalog, concurrency: ProcessInfo.processInfo.activeProcessorCount)
        var options = GraderOptions()
        options.maxTests = recipe.graderMaxTests
        options.timeLimitSeconds = recipe.graderTimeLimit
        options.defaultMemoryLimitMiB = recipe.graderMemoryMiB
        return Grader(executor: submissionExecutor, options: options)
    }
}
