import Foundation

/// When the policy samples the next batch (`--pipeline`).
public enum PipelineMode: String, Codable, Sendable, CaseIterable {
    /// Sample, grade, then learn: every sample comes from the current weights.
    case off
    /// One-off pipelining (verl-pipe): while the learner updates on batch k, the sampler draws
    /// batch k+1 with the weights from before that update.
    case oneOff = "one-off"
}

/// Which prompt a problem becomes.
public enum PromptStyle: String, Codable, Sendable, CaseIterable {
    /// The tokenizer's chat template when it has one, else `plain`.
    case auto
    /// DeepCoder's LiveCodeBench prompt, as a user turn of the chat template.
    case deepcoder
    /// The statement and an instruction to answer in a fenced Python block, as plain text.
    case plain
}

/// From `step` on, responses may be at most `maxResponseTokens` long (iterative context lengthening).
public struct ContextStage: Codable, Sendable, Equatable {
    public var step: Int
    public var maxResponseTokens: Int
    public init(step: Int, maxResponseTokens: Int) {
        self.step = step
        self.maxResponseTokens = maxResponseTokens
    }
}

/// A run's whole configuration, read from a JSON recipe file. Defaults are DeepCoder's
/// (`recipes/deepcoder-16k.json`); an unknown key is an error, so a typo never silently runs
/// the default.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    /// Directory with `config.json` and `model.safetensors` (a TensorEngine or transformers checkpoint).
    public var model: String
    /// `tokenizer.json`; nil: the model directory's, else the byte tokenizer when the model's vocabulary is 257.
    public var tokenizer: String?
    /// Training problems: any file `assay grade` reads.
    public var data: String
    public var dataFormat: String?
    /// Held-out problems for validation; nil: no validation.
    public var heldOut: String?
    public var heldOutFormat: String?
    public var prompt: PromptStyle = .auto
    public var steps: Int = 100
    public var promptsPerStep: Int = 32
    public var groupSize: Int = 8
    /// Prompts per optimizer step; `promptsPerStep / promptsPerMiniBatch` updates per step (one epoch).
    public var promptsPerMiniBatch: Int = 32
    public var temperature: Double = 0.6
    public var topP: Double = 1.0
    public var contextSchedule: [ContextStage] = [ContextStage(step: 0, maxResponseTokens: 16384),
                                                  ContextStage(step: 180, maxResponseTokens: 32768)]
    public var learningRate: Double = 1e-6
    public var weightDecay: Double = 0.01
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var maxGradientNorm: Double = 1.0
    public var loss: PolicyLossSettings = PolicyLossSettings()
    public var overlongFiltering: Bool = true
    /// Dr. GRPO's advantage (r − mean) when false.
    public var normalizeAdvantageByStd: Bool = true
    public var pipeline: PipelineMode = .oneOff
    /// Validate every N steps (and before the first); 0: never.
    public var validationEvery: Int = 10
    public var validationSamples: Int = 8
    public var validationTemperature: Double = 0.6
    /// Checkpoint every N steps (and after the last); 0: only after the last.
    public var checkpointEvery: Int = 10
    public var seed: UInt64 = 0
    /// Per-test time limit override for grading, seconds; nil: each problem's own.
    public var graderTimeLimit: Double? = nil
    public var graderMemoryMiB: Int = 1024
    public var graderMaxTests: Int = 15
    public var graderJobs: Int = 1
    /// Python executor for grading: warm (default) or cold.
    public var executor: String = "warm"
    /// The run stops with an error when more than this fraction of a step's groups failed to grade.
    public var maxGradingFailureFraction: Double = 0.25
    /// A control run: every sample is still graded in the sandbox, but the learner gets a coin flip
    /// whose chance is the step's mean sandbox reward instead: the same amount of reward, none of
    /// its information. Held-out validation is graded as always.
    public var coinFlipControl: Bool = false

    public init(model: String, data: String) {
        self.model = model
        self.data = data
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, tokenizer, data, dataFormat, heldOut, heldOutFormat, prompt, steps, promptsPerStep, groupSize,
             promptsPerMiniBatch, temperature, topP, contextSchedule, learningRate, weightDecay, adamBeta1, adamBeta2,
             maxGradientNorm, loss, overlongFiltering, normalizeAdvantageByStd, pipeline, validationEvery,
             validationSamples, validationTemperature, checkpointEvery, seed, graderTimeLimit, graderMemoryMiB,
             graderMaxTests, graderJobs, executor, maxGradingFailureFraction, coinFlipControl
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        data = try c.decode(String.self, forKey: .data)
        func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        tokenizer = try c.decodeIfPresent(String.self, forKey: .tokenizer)
        dataFormat = try c.decodeIfPresent(String.self, forKey: .dataFormat)
        heldOut = try c.decodeIfPresent(String.self, forKey: .heldOut)
        heldOutFormat = try c.decodeIfPresent(String.self, forKey: .heldOutFormat)
        graderTimeLimit = try c.decodeIfPresent(Double.self, forKey: .graderTimeLimit)
        try take(.prompt, &prompt); try take(.steps, &steps); try take(.promptsPerStep, &promptsPerStep)
        try take(.groupSize, &groupSize); try take(.promptsPerMiniBatch, &promptsPerMiniBatch)
        try take(.temperature, &temperature); try take(.topP, &topP); try take(.contextSchedule, &contextSchedule)
        try take(.learningRate, &learningRate); try take(.weightDecay, &weightDecay)
        try take(.adamBeta1, &adamBeta1); try take(.adamBeta2, &adamBeta2); try take(.maxGradientNorm, &maxGradientNorm)
        try take(.loss, &loss); try take(.overlongFiltering, &overlongFiltering)
        try take(.normalizeAdvantageByStd, &normalizeAdvantageByStd); try take(.pipeline, &pipeline)
        try take(.validationEvery, &validationEvery); try take(.validationSamples, &validationSamples)
        try take(.validationTemperature, &validationTemperature); try take(.checkpointEvery, &checkpointEvery)
        try take(.seed, &seed); try take(.graderMemoryMiB, &graderMemoryMiB); try take(.graderMaxTests, &graderMaxTests)
        try take(.graderJobs, &graderJobs); try take(.executor, &executor)
        try take(.maxGradingFailureFraction, &maxGradingFailureFraction); try take(.coinFlipControl, &coinFlipControl)
    }

    /// Reads a recipe file, refusing unknown keys (at the top level and in `loss`) and impossible values.
    public static func load(path: String) throws -> TrainingRecipe {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidRecipe("cannot read the recipe \(path)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainingError.invalidRecipe("\(path) is not a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw TrainingError.invalidRecipe("\(path): unknown key '\(unknown)'; the keys are \(known.sorted().joined(separator: ", "))")
        }
        if let loss = object["loss"] as? [String: Any] {
            let lossKeys: Set<String> = ["clipLow", "clipHigh", "dualClip", "aggregation", "aggregationNorm"]
            if let unknown = loss.keys.sorted().first(where: { !lossKeys.contains($0) }) {
                throw TrainingError.invalidRecipe("\(path): unknown key 'loss.\(unknown)'; the keys are \(lossKeys.sorted().joined(separator: ", "))")
            }
        }
        var recipe: TrainingRecipe
        do { recipe = try JSONDecoder().decode(TrainingRecipe.self, from: data) } catch {
            throw TrainingError.invalidRecipe("\(path): \(Self.describe(error))")
        }
        // Relative paths are relative to the recipe file.
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardized.path }
        recipe.model = resolve(recipe.model)
        recipe.data = resolve(recipe.data)
        recipe.tokenizer = recipe.tokenizer.map(resolve)
        recipe.heldOut = recipe.heldOut.map(resolve)
        try recipe.validate()
        return recipe
    }

    /// Checks every value against its range, naming the first that is out of it.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw TrainingError.invalidRecipe(message) } }
        try check(steps >= 1, "steps must be at least 1, got \(steps)")
        try check(promptsPerStep >= 1 && groupSize >= 1, "promptsPerStep and groupSize must be at least 1")
        try check(promptsPerMiniBatch >= 1 && promptsPerStep % promptsPerMiniBatch == 0,
                  "promptsPerMiniBatch (\(promptsPerMiniBatch)) must divide promptsPerStep (\(promptsPerStep))")
        try check(temperature > 0 && temperature <= 10, "temperature must be in (0, 10], got \(temperature)")
        try check(topP > 0 && topP <= 1, "topP must be in (0, 1], got \(topP)")
        try check(!contextSchedule.isEmpty && contextSchedule[0].step == 0,
                  "contextSchedule must start at step 0, e.g. [{\"step\": 0, \"maxResponseTokens\": 16384}]")
        try check(zip(contextSchedule, contextSchedule.dropFirst()).allSatisfy { $0.step < $1.step },
                  "contextSchedule steps must increase")
        try check(contextSchedule.allSatisfy { $0.maxResponseTokens >= 1 }, "maxResponseTokens must be at least 1")
        try check(learningRate > 0 && learningRate < 1, "learningRate must be in (0, 1), got \(learningRate)")
        try check(loss.clipLow > 0 && loss.clipLow < 1 && loss.clipHigh > 0, "clipLow must be in (0, 1) and clipHigh > 0")
        try check(loss.dualClip.map { $0 > 1 } ?? true, "loss.dualClip must be greater than 1 (verl uses 3.0)")
        try check(["warm", "cold"].contains(executor), "executor must be warm or cold, got '\(executor)'")
        try check(validationEvery >= 0 && checkpointEvery >= 0 && validationSamples >= 1, "validationEvery/checkpointEvery must be ≥ 0, validationSamples ≥ 1")
        try check(graderJobs >= 1 && graderJobs <= 64, "graderJobs must be 1...64")
        try check(maxGradingFailureFraction >= 0 && maxGradingFailureFraction <= 1, "maxGradingFailureFraction must be in [0, 1]")
    }

    /// The response budget in force at `step`.
    public func maxResponseTokens(atStep step: Int) -> Int {
        contextSchedule.last(where: { $0.step <= step })?.maxResponseTokens ?? contextSchedule[0].maxResponseTokens
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
        case DecodingError.keyNotFound(let key, _):
            return "missing key '\(key.stringValue)'"
        case DecodingError.dataCorrupted(let ctx):
            return "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

/// A run that cannot start or go on, with what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidRecipe(String)
    case invalidData(String)
    case runDirectory(String)
    case staleSample(String)
    case grading(String)

    public var description: String {
        switch self {
        case .invalidRecipe(let m): "invalid recipe: \(m)"
        case .invalidData(let m): "invalid data: \(m)"
        case .runDirectory(let m): "run directory: \(m)"
        case .staleSample(let m): "stale sample: \(m)"
        case .grading(let m): "grading failed: \(m)"
        }
    }
}
