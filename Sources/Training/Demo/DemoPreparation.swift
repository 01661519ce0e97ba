import Foundation
import Rewards
import TensorEngine

/// Makes everything the RL demo starts from (`assay demo prepare`): the task family's training
/// and held-out sets as native JSONL, and a starting checkpoint trained from scratch by supervised
/// learning on training tasks whose solutions carry each bug with probability `bugRate`.
public struct DemoPreparation: Sendable {
    public var seed: UInt64 = 1
    public var trainTasks = 1500
    public var heldOutTasks = 256
    /// Supervised steps of `batchSize` answers.
    public var steps = 220
    public var batchSize = 32
    public var learningRate: Float = 2e-3
    /// The chance that an answer's filter (and, separately, its map) is the buggy one.
    public var bugRate = 0.5
    /// hidden 256, 4 layers: about 3.4M parameters with the 1k tokenizer.
    public var config = Qwen2Config(hiddenSize: 256, intermediateSize: 688, numLayers: 4, numHeads: 4, numKVHeads: 2,
                                    vocabSize: 1024, maxPositionEmbeddings: 256)

    public init() {}

    /// One line of progress: the step, its loss, and seconds so far.
    public typealias Progress = (_ step: Int, _ loss: Float, _ seconds: Double) -> Void

    /// Writes `train.jsonl`, `heldout.jsonl` and `start/` (config, weights, `tokenizer.json`) into
    /// `directory`. `tokenizer` is the `tokenizer.json` the model will use.
    public func run(directory: URL, tokenizer tokenizerFile: URL, progress: Progress = { _, _, _ in }) throws {
        let tokenizer = try BPETokenizer(contentsOf: tokenizerFile)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw TrainingError.invalidRecipe("the tokenizer has \(tokenizer.vocabularySize) tokens, more than the model's \(config.vocabSize)")
        }
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let train = FunctionTasks.generate(split: .train, count: trainTasks, seed: seed)
        let heldOut = FunctionTasks.generate(split: .heldOut, count: heldOutTasks, seed: seed)
        try write(train.map(\.problem), to: directory.appendingPathComponent("train.jsonl"))
        try write(heldOut.map(\.problem), to: directory.appendingPathComponent("heldout.jsonl"))

        let model = try Qwen2Model(config: config)
        model.initializeRandom(seed: seed)
        let trainer = Trainer(model: model, hyperparameters: AdamW.Hyperparameters(learningRate: learningRate, weightDecay: 0.01))
        try supervise(trainer, on: train, tokenizer: tokenizer, progress: progress)

        let start = directory.appendingPathComponent("start")
        try model.save(directory: start)
        let copy = start.appendingPathComponent("tokenizer.json")
        try? fm.removeItem(at: copy)
        try fm.copyItem(at: tokenizerFile, to: copy)
    }

    /// Cross-entropy on prompt → fenced answer, the answer alone counted; learning rate warmed
    /// up over the first 5% of steps, then cosine-decayed to a tenth.
    func supervise(_ trainer: Trainer, on tasks: [FunctionTasks.Task], tokenizer: BPETokenizer, progress: Progress) throws {
        let prompts = try PromptBuilder(tokenizer: tokenizer, style: .plain)
        let promptTokens = tasks.map { prompts.tokens(for: $0.problem) }
        var rng = SplitMix64(seed: RolloutWorker.mix(seed, 0x5F7))
        let started = Date()
        let warmup = max(1, steps / 20)
        for step in 0..<steps {
            var sequences: [[Int32]] = [], lossStart: [Int] = []
            for _ in 0..<batchSize {
                let i = Int.random(in: 0..<tasks.count, using: &rng)
                let task = tasks[i]
                let answer = task.answer(buggyFilter: Double.random(in: 0..<1, using: &rng) < bugRate,
                                         buggyMap: task.mapHasBug && Double.random(in: 0..<1, using: &rng) < bugRate)
                sequences.append(promptTokens[i] + tokenizer.encode(answer) + [prompts.endOfResponse])
                lossStart.append(promptTokens[i].count)
            }
            let batch = try TrainingBatch.packing(sequences, padToken: 0, lossStart: lossStart)
            let loss = trainer.crossEntropyStep(batch)
            let progressDone = Double(max(0, step - warmup)) / Double(max(1, steps - warmup))
            let rate = step < warmup ? learningRate * Float(step + 1) / Float(warmup)
                : learningRate * Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * progressDone)))
            trainer.step(learningRate: rate)
            progress(step, loss, Date().timeIntervalSince(started))
        }
    }

    func write(_ problems: [Problem], to url: URL) throws {
        try (problems.map(NativeWriter.line).joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }
}
