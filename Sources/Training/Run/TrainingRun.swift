import Foundation
import Rewards
import TensorEngine

/// One line of progress, for the CLI's live line or log.
public struct StepReport: Sendable {
    public var step: Int
    public var steps: Int
    public var rewardMean: Double
    public var heldOutPassAt1: Double?
    public var secondsPerStep: Double
    public var metrics: [String: Double]
}

/// An `assay train` run: the loop of ARCHITECTURE.md §5 over a run directory.
///
/// Per step (one-off pipelining): the sampler takes the learner's weights; then, at once, the
/// learner updates on the batch drawn during the previous step, and the sampler draws (and the
/// grader grades, group by group) the batch for the next step. With `--pipeline off` the step
/// samples, grades and then learns. Seeds derive from (seed, step, prompt, sample) and the data
/// order from (seed, epoch), so a resumed run equals an uninterrupted one.
public final class TrainingRun {
    public let recipe: TrainingRecipe
    public let directory: RunDirectory
    let problems: [Problem]
    let heldOut: [Problem]
    let learner: GRPOLearner
    let worker: RolloutWorker
    var step: Int
    var pending: RolloutBatch?
    public var report: (StepReport) -> Void = { _ in }

    /// Opens a new run, or the newest checkpoint of an existing one with `resume`.
    /// - Parameter grader: grades every sample: a `Grader` over the caller's sandbox executor (warm
    ///   or cold), or a `RemoteGrader` (`assay serve`).
    public init(recipe: TrainingRecipe, directory: RunDirectory, grader: any RewardSource, resume: Bool) throws {
        self.recipe = recipe
        self.directory = directory
        problems = try Self.load(recipe.data, format: recipe.dataFormat, what: "data")
        heldOut = try recipe.heldOut.map { try Self.load($0, format: recipe.heldOutFormat, what: "heldOut") } ?? []

        let trainer: Trainer
        var state: RunDirectory.State?
        if resume {
            let stored = try directory.storedRecipe()
            var comparable = recipe
            comparable.steps = stored.steps  // a resumed run may be given more steps
            guard comparable == stored else {
                throw TrainingError.runDirectory("the recipe differs from the one \(directory.url.path) was started with (config.json); resume with that recipe, or start a new run directory")
            }
            guard let (dir, saved) = try directory.latestCheckpoint() else {
                throw TrainingError.runDirectory("\(directory.url.path) has no checkpoint yet; start it again without --resume in a new directory")
            }
            trainer = try Trainer.resume(directory: dir)
            state = saved
            try directory.truncateLogs(after: saved.step)
        } else {
            let model: Qwen2Model
            do { model = try Qwen2Model.load(directory: URL(fileURLWithPath: recipe.model)) } catch {
                throw TrainingError.invalidRecipe("cannot load the model \(recipe.model): \(error)")
            }
            trainer = Trainer(model: model, hyperparameters: AdamW.Hyperparameters(
                learningRate: Float(recipe.learningRate), beta1: Float(recipe.adamBeta1), beta2: Float(recipe.adamBeta2),
                weightDecay: Float(recipe.weightDecay)))
            try directory.create(recipe: recipe)
        }
        let tokenizer = try Self.tokenizer(recipe, vocabulary: trainer.model.config.vocabSize)
        let prompts = try PromptBuilder(tokenizer: tokenizer, style: recipe.prompt)
        let policy = try Qwen2Model(config: trainer.model.config)
        worker = RolloutWorker(policy: policy, prompts: prompts, grader: grader, graderJobs: recipe.graderJobs)
        learner = GRPOLearner(trainer: trainer, recipe: recipe, version: state?.policyVersion ?? 0)
        step = state.map { $0.step + 1 } ?? 0
        pending = state?.pending
    }

    static func load(_ path: String, format: String?, what: String) throws -> [Problem] {
        var chosen: DataFormat?
        if let format {
            guard let f = DataFormat(rawValue: format) else {
                throw TrainingError.invalidRecipe("\(what)Format '\(format)' is not one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen = f
        }
        let set: ProblemSet
        do { set = try ProblemLoader.load(path: path, format: chosen) } catch {
            throw TrainingError.invalidData("\(what) \(path): \(error)")
        }
        if let empty = set.problems.first(where: { $0.tests.isEmpty }) {
            throw TrainingError.invalidData("\(what) \(path): problem '\(empty.id)' has no tests; a reward needs at least one (curate the set with `assay curate`)")
        }
        return set.problems
    }

    static func tokenizer(_ recipe: TrainingRecipe, vocabulary: Int) throws -> any TextTokenizer {
        let path = recipe.tokenizer ?? URL(fileURLWithPath: recipe.model).appendingPathComponent("tokenizer.json").path
        let tokenizer: any TextTokenizer
        if FileManager.default.fileExists(atPath: path) {
            do { tokenizer = try BPETokenizer(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw TrainingError.invalidRecipe("cannot read the tokenizer \(path): \(error)")
            }
        } else if recipe.tokenizer == nil, vocabulary == ByteTokenizer().vocabularySize {
            tokenizer = ByteTokenizer()
        } else {
            throw TrainingError.invalidRecipe("no tokenizer at \(path); set \"tokenizer\" in the recipe")
        }
        guard tokenizer.vocabularySize <= vocabulary else {
            throw TrainingError.invalidRecipe("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(vocabulary): they do not belong together")
        }
        return tokenizer
    }

    /// The problems of `step`: the data in an order shuffled per epoch by (seed, epoch).
    func problemsFor(step: Int) -> [Int] {
        let n = problems.count
        var orders: [Int: [Int]] = [:]  // a step spans at most a few epochs
        return (0..<recipe.promptsPerStep).map { k in
            let position = step * recipe.promptsPerStep + k
            let epoch = position / n
            if orders[epoch] == nil {
                var rng = SplitMix64(seed: RolloutWorker.mix(recipe.seed, 0xDA7A, UInt64(epoch)))
                var order = Array(0..<n)
                order.shuffle(using: &rng)
                orders[epoch] = order
            }
            return orders[epoch]![position % n]
        }
    }

    func draw(_ s: Int) throws -> RolloutBatch {
        let batch = try worker.draw(step: s, problems: problemsFor(step: s), from: problems, groupSize: recipe.groupSize,
                                    temperature: recipe.temperature, topP: recipe.topP,
                                    maxResponseTokens: recipe.maxResponseTokens(atStep: s), seed: recipe.seed)
        return recipe.coinFlipControl ? Self.coinFlips(batch, seed: recipe.seed) : batch
    }

    /// `batch` with each graded reward replaced by a coin flip of the batch's mean sandbox reward,
    /// seeded by (seed, step, group, sample).
    static func coinFlips(_ batch: RolloutBatch, seed: UInt64) -> RolloutBatch {
        var batch = batch
        let rewards = batch.groups.filter { $0.gradingError == nil }.flatMap { $0.samples.compactMap(\.reward) }
        let chance = rewards.isEmpty ? 0 : rewards.reduce(0, +) / Double(rewards.count)
        for g in batch.groups.indices where batch.groups[g].gradingError == nil {
            for i in batch.groups[g].samples.indices {
                var rng = SplitMix64(seed: RolloutWorker.mix(seed, 0xC014, UInt64(batch.step), UInt64(g), UInt64(i)))
                batch.groups[g].samples[i].sandboxReward = batch.groups[g].samples[i].reward
                batch.groups[g].samples[i].reward = Double.random(in: 0..<1, using: &rng) < chance ? 1 : 0
            }
        }
        return batch
    }

    /// Held-out pass@1 (mean over samples) and pass@n (a problem passes when any sample does).
    func validate(at s: Int) throws -> [String: Double] {
        guard !heldOut.isEmpty else { return [:] }
        let started = Date()
        worker.load(weightsOf: learner.trainer.model, version: learner.version)
        let batch = try worker.draw(step: s, problems: Array(heldOut.indices), from: heldOut, groupSize: recipe.validationSamples,
                                    temperature: recipe.validationTemperature, topP: 1,
                                    maxResponseTokens: recipe.maxResponseTokens(atStep: s),
                                    seed: RolloutWorker.mix(recipe.seed, 0xE7A1))
        let graded = batch.groups.filter { $0.gradingError == nil }
        let rewards = graded.flatMap { $0.samples.compactMap(\.reward) }
        let noCode = graded.flatMap(\.samples).filter { $0.reason == "no_code" }.count
        return ["heldout_samples": Double(recipe.validationSamples), "heldout_problems": Double(heldOut.count),
                "heldout_seconds": Date().timeIntervalSince(started),
                "heldout_pass_at_1": rewards.isEmpty ? 0 : rewards.reduce(0, +) / Double(rewards.count),
                "heldout_pass_at_n": graded.isEmpty ? 0 : Double(graded.filter { $0.samples.contains { $0.reward == 1 } }.count) / Double(graded.count),
                "heldout_no_code_rate": rewards.isEmpty ? 0 : Double(noCode) / Double(graded.flatMap(\.samples).count),
                "heldout_grading_failures": Double(batch.groups.count - graded.count)]
    }

    /// Runs until `recipe.steps` (or `limit` more steps); writes metrics, samples and checkpoints.
    public func run(limit: Int? = nil) throws {
        let end = min(recipe.steps, limit.map { step + $0 } ?? recipe.steps)
        let oneOff = recipe.pipeline == .oneOff
        let cores = EngineThreads.current
        // Pipelined, the sampler and the learner each get half of the cores (at least one), so
        // neither waits on the other for a core; the grader's boxes take what is left.
        // Validation runs alone, between steps, on all of them.
        let stepCores = oneOff ? max(1, cores / 2) : cores
        func validateAlone(at s: Int) throws -> [String: Double] {
            EngineThreads.limit(to: cores)
            defer { EngineThreads.limit(to: stepCores) }
            return try validate(at: s)
        }
        EngineThreads.limit(to: stepCores)
        defer { EngineThreads.limit(to: cores) }
        if step == 0, recipe.validationEvery > 0 {
            try directory.appendMetrics(["step": -1] as [String: Any] + (try validateAlone(at: 0)).mapValues { $0 as Any })
        }
        while step < end {
            var validation: [String: Double] = [:]
            if recipe.validationEvery > 0, step > 0, step % recipe.validationEvery == 0 {
                validation = try validateAlone(at: step)
            }
            // The step's own time; the validation before it is `heldout_seconds`.
            let started = Date()
            var batch: RolloutBatch
            var learned: LearnerMetrics
            var learnSeconds = 0.0, waitSeconds = 0.0
            if oneOff {
                if pending == nil {
                    worker.load(weightsOf: learner.trainer.model, version: learner.version)
                    pending = try draw(step)
                }
                batch = pending!
                pending = nil
                // The weights from before this update sample the next batch.
                worker.load(weightsOf: learner.trainer.model, version: learner.version)
                let next = step + 1 < recipe.steps ? BackgroundDraw(run: self, step: step + 1) : nil
                let t0 = Date()
                learned = try learner.update(batch, useSamplerLogprobs: true)
                learnSeconds = Date().timeIntervalSince(t0)
                let t1 = Date()
                pending = try next?.join()
                waitSeconds = Date().timeIntervalSince(t1)
            } else {
                worker.load(weightsOf: learner.trainer.model, version: learner.version)
                batch = try draw(step)
                let t0 = Date()
                learned = try learner.update(batch, useSamplerLogprobs: false)
                learnSeconds = Date().timeIntervalSince(t0)
            }
            let failures = Double(learned.groupsSkipped) / Double(max(batch.groups.count, 1))
            if failures > recipe.maxGradingFailureFraction {
                let why = batch.groups.compactMap(\.gradingError).first ?? ""
                throw TrainingError.grading("\(learned.groupsSkipped) of \(batch.groups.count) groups of step \(step) could not be graded (first: \(why)); the limit is maxGradingFailureFraction = \(recipe.maxGradingFailureFraction)")
            }
            let seconds = Date().timeIntervalSince(started)
            var line = metricsLine(batch: batch, learned: learned, seconds: seconds, learn: learnSeconds, wait: waitSeconds)
            for (k, v) in validation { line[k] = v }
            try directory.appendMetrics(line)
            try directory.appendSamples(batch.groups.flatMap(\.samples).map { s in
                var sample: [String: Any] = ["step": step, "problem": problems[s.problem].id, "response": s.text,
                                             "reward": s.reward.map { $0 as Any } ?? NSNull(), "reason": s.reason,
                                             "truncated": s.truncated, "policy_version": s.policyVersion]
                if let real = s.sandboxReward { sample["sandbox_reward"] = real }
                return sample
            })
            report(StepReport(step: step, steps: recipe.steps, rewardMean: line["reward_mean"] as? Double ?? 0,
                              heldOutPassAt1: validation["heldout_pass_at_1"], secondsPerStep: seconds,
                              metrics: line.compactMapValues { $0 as? Double }))
            if step == recipe.steps - 1 || step + 1 == end || (recipe.checkpointEvery > 0 && (step + 1) % recipe.checkpointEvery == 0) {
                try checkpoint()
            }
            step += 1
        }
        // The run's last word: held-out after the last step.
        if step == recipe.steps, step == end, recipe.validationEvery > 0, !heldOut.isEmpty {
            try directory.appendMetrics(["step": step] as [String: Any] + (try validateAlone(at: step)).mapValues { $0 as Any })
        }
    }

    func checkpoint() throws {
        try directory.saveCheckpoint(state: RunDirectory.State(step: step, policyVersion: learner.version, pending: pending)) { dir in
            try learner.trainer.saveCheckpoint(directory: dir)
        }
    }

    func metricsLine(batch: RolloutBatch, learned: LearnerMetrics, seconds: Double, learn: Double, wait: Double) -> [String: Any] {
        let samples = batch.groups.filter { $0.gradingError == nil }.flatMap(\.samples)
        let rewards = samples.compactMap(\.reward)
        let lengths = samples.map { Double($0.responseTokens.count) }
        func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
        var line: [String: Any] = [
            "step": batch.step, "reward_mean": mean(rewards),
            "pass_rate": Double(batch.groups.filter { $0.samples.contains { $0.reward == 1 } }.count) / Double(max(batch.groups.count, 1)),
            "no_code_rate": mean(samples.map { $0.reason == "no_code" ? 1 : 0 }),
            "response_length_mean": mean(lengths), "response_length_max": lengths.max() ?? 0,
            "truncated_fraction": mean(samples.map { $0.truncated ? 1 : 0 }),
            "max_response_tokens": batch.maxResponseTokens,
            "loss": learned.loss, "clip_fraction": learned.clipFraction, "lower_clip_fraction": learned.lowerClipFraction,
            "ppo_kl": learned.ppoKL, "gradient_norm": learned.gradientNorm, "learning_rate": recipe.learningRate,
            "policy_versions": learned.policyVersions, "learner_version": learner.version,
            "grading_failures": learned.groupsSkipped, "updates": learned.updates,
            "seconds": seconds, "sample_seconds": batch.sampleSeconds, "grade_seconds": batch.gradeSeconds,
            "learn_seconds": learn, "wait_seconds": wait,
        ]
        if let m = learned.logprobMismatch { line["logprob_mismatch"] = m }
        if recipe.coinFlipControl { line["sandbox_reward_mean"] = mean(samples.compactMap(\.sandboxReward)) }
        return line
    }
}

/// The next batch, drawn on a thread of its own while the learner updates.
final class BackgroundDraw: @unchecked Sendable {
    // @unchecked: `result` is written by the thread before `done` is signalled and read after.
    private var result: Result<RolloutBatch, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(run: TrainingRun, step: Int) {
        nonisolated(unsafe) let run = run
        let thread = Thread { [self] in
            result = Result { try run.draw(step) }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() throws -> RolloutBatch {
        done.wait()
        return try result!.get()
    }
}

private func + (a: [String: Any], b: [String: Any]) -> [String: Any] { a.merging(b) { _, new in new } }
