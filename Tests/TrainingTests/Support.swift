import Foundation
import Glibc
import Rewards
import Sandboxing
import TensorEngine
@testable import Training

enum TrainingFixtures {
    static let isRoot = geteuid() == 0

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let problems = repositoryRoot + "/testdata/training/echo-and-double.jsonl"

    /// The two programs the tiny model is taught to write, each as often for every prompt: one passes
    /// `echo`, the other `double`, so a group of samples at temperature 1 almost always mixes rewards
    /// (a model taught one answer samples it every time, and its groups carry no learning signal).
    static let answers = ["```python\nprint(input())\n```", "```python\nprint(int(input())*2)\n```"]

    /// A byte-level Qwen2 of about 60k parameters, taught by a few supervised steps to answer every
    /// prompt with either of `answers`. Written to a fresh directory, with the byte tokenizer implied
    /// by its vocabulary of 257.
    static func tinyModel() throws -> URL {
        let config = Qwen2Config(hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKVHeads: 2,
                                 vocabSize: ByteTokenizer().vocabularySize, maxPositionEmbeddings: 256)
        let model = try Qwen2Model(config: config)
        model.initializeRandom(seed: 7)
        let trainer = Trainer(model: model, hyperparameters: AdamW.Hyperparameters(learningRate: 1e-2, weightDecay: 0))
        let tokenizer = ByteTokenizer()
        let end = tokenizer.specialTokenID("<|endoftext|>")!
        let set = try ProblemLoader.load(path: problems).problems
        let prompts = set.map { tokenizer.encode(PromptBuilder.plainText($0)) }
        let pairs = prompts.flatMap { prompt in answers.map { (prompt, prompt + tokenizer.encode($0) + [end]) } }
        let batch = try TrainingBatch.packing(pairs.map(\.1), padToken: 0, lossStart: pairs.map(\.0.count))
        for _ in 0..<80 {
            trainer.crossEntropyStep(batch)
            trainer.step()
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("assay-tiny-\(UUID().uuidString)")
        try model.save(directory: dir)
        return dir
    }

    static let sandbox: Sandbox = {
        do { return try Sandbox(configuration: .init(stateDirectory: "/run/assay-training-tests", uidBase: 2_700_000)) } catch {
            fatalError("cannot create the sandbox for the training tests: \(error)")
        }
    }()

    static func grader() throws -> Grader {
        let catalog = try ProfileCatalog(directory: repositoryRoot + "/sandbox-profiles")
        var options = GraderOptions()
        options.defaultMemoryLimitMiB = 256
        return Grader(executor: WarmPythonExecutor(cold: try SandboxExecutor(sandbox: sandbox, catalog: catalog)), options: options)
    }

    /// A small recipe over the fixtures: 2 prompts × 4 samples a step, responses of at most 40 tokens.
    static func recipe(model: URL, pipeline: PipelineMode, steps: Int = 4) -> TrainingRecipe {
        var r = TrainingRecipe(model: model.path, data: problems)
        r.heldOut = problems
        r.steps = steps
        r.promptsPerStep = 2
        r.promptsPerMiniBatch = 1
        r.groupSize = 4
        r.contextSchedule = [ContextStage(step: 0, maxResponseTokens: 40), ContextStage(step: 2, maxResponseTokens: 48)]
        r.learningRate = 1e-3
        r.validationEvery = 2
        r.validationSamples = 2
        r.checkpointEvery = 2
        r.pipeline = pipeline
        r.temperature = 1.0
        r.seed = 11
        return r
    }

    static func temporaryDirectory(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("assay-\(name)-\(UUID().uuidString)").path
    }
}
