import Foundation
import TensorEngine

/// What one learner step did (logged per step).
public struct LearnerMetrics: Sendable, Codable {
    public var loss = 0.0
    public var clipFraction = 0.0
    public var lowerClipFraction = 0.0
    public var ppoKL = 0.0
    public var gradientNorm = 0.0
    /// Mean |sampler log-prob − recomputed old log-prob| over the tokens, when both exist (sync mode).
    public var logprobMismatch: Double?
    public var updates = 0
    public var samplesUsed = 0
    public var groupsSkipped = 0
    public var policyVersions: [Int] = []
}

/// GRPO+ on a `Trainer`: advantages per group, overlong filtering, the clipped token loss over
/// mini-batches (one epoch), AdamW with gradient clipping.
public final class GRPOLearner: @unchecked Sendable {
    // @unchecked: one thread runs `update` at a time (the run's learner thread).
    public let trainer: Trainer
    public let recipe: TrainingRecipe
    /// Bumped by every `update`: the version of the weights the learner now holds.
    public private(set) var version: Int

    public init(trainer: Trainer, recipe: TrainingRecipe, version: Int = 0) {
        self.trainer = trainer
        self.recipe = recipe
        self.version = version
        trainer.maxGradientNorm = Float(recipe.maxGradientNorm)
    }

    /// One step on `batch`.
    /// - Parameter useSamplerLogprobs: one-off mode (verl-pipe): the sampler's log-probs are old_logp.
    ///   Otherwise they are recomputed with the learner's weights before the first update (verl).
    /// - Throws: ``TrainingError/staleSample(_:)`` for a sample more than one version behind.
    public func update(_ batch: RolloutBatch, useSamplerLogprobs: Bool) throws -> LearnerMetrics {
        var metrics = LearnerMetrics()
        for group in batch.groups {
            for s in group.samples where s.policyVersion < version - 1 {
                throw TrainingError.staleSample(
                    "a sample of policy version \(s.policyVersion) reached the learner at version \(version); at most one version behind is allowed")
            }
        }
        let usable = batch.groups.filter { $0.gradingError == nil }
        metrics.groupsSkipped = batch.groups.count - usable.count
        metrics.policyVersions = Array(Set(batch.groups.flatMap { $0.samples.map(\.policyVersion) })).sorted()
        let samples = usable.flatMap(\.samples)
        guard !samples.isEmpty else { return metrics }
        let advantages = Self.advantages(samples, recipe: recipe)
        // Mini-batches of whole groups, in batch order.
        let perMiniBatch = recipe.promptsPerMiniBatch * recipe.groupSize
        let chunks = stride(from: 0, to: samples.count, by: perMiniBatch).map { $0..<min($0 + perMiniBatch, samples.count) }
        let temperature = Float(recipe.temperature)
        // old_logp for every mini-batch, before any update (sync), or the sampler's (one-off).
        var old: [[Float]] = []
        var mismatch = 0.0, mismatchTokens = 0.0
        for chunk in chunks {
            let (tb, positions) = try Self.batch(Array(samples[chunk]))
            let sampler = Self.scatter(samples[chunk].map(\.logprobs), positions: positions, count: tb.B * tb.T)
            if useSamplerLogprobs {
                old.append(sampler)
            } else {
                let recomputed = trainer.logProbs(tb, temperature: temperature)
                for i in 0..<recomputed.count where tb.mask[i] != 0 {
                    mismatch += abs(Double(recomputed[i]) - Double(sampler[i]))
                    mismatchTokens += 1
                }
                old.append(recomputed)
            }
        }
        if mismatchTokens > 0 { metrics.logprobMismatch = mismatch / mismatchTokens }
        var normSum = 0.0
        for (k, chunk) in chunks.enumerated() {
            let (tb, _) = try Self.batch(Array(samples[chunk]))
            let logp = trainer.logProbs(tb, temperature: temperature)
            let (m, dlogp) = PolicyLoss.forwardBackward(
                logp: logp, oldLogp: old[k], advantages: Array(advantages[chunk]), mask: tb.mask, B: tb.B, T: tb.T,
                settings: recipe.loss)
            trainer.backward(logProbGradients: dlogp)
            normSum += Double(trainer.step(learningRate: Float(recipe.learningRate)))
            metrics.loss += m.loss / Double(chunks.count)
            metrics.clipFraction += m.clipFraction / Double(chunks.count)
            metrics.lowerClipFraction += m.lowerClipFraction / Double(chunks.count)
            metrics.ppoKL += m.ppoKL / Double(chunks.count)
            metrics.updates += 1
        }
        metrics.gradientNorm = normSum / Double(chunks.count)
        metrics.samplesUsed = samples.count
        version += 1
        return metrics
    }

    /// Each sample's advantage within its group, overlong-filtered when the recipe says so.
    /// Every sample here was graded (failed groups never reach this point).
    static func advantages(_ samples: [Rollout], recipe: TrainingRecipe) -> [Double] {
        let rewards = samples.map { $0.reward! }
        let advantages = GroupAdvantages.compute(
            rewards: rewards, groups: samples.map(\.problem), normalizeByStd: recipe.normalizeAdvantageByStd)
        guard recipe.overlongFiltering else { return advantages }
        return GroupAdvantages.filterOverlong(advantages, rewards: rewards, truncated: samples.map(\.truncated))
    }

    /// The padded batch of prompt + response sequences (`TrainingBatch.packing`, the loss on the
    /// response tokens only).
    /// - Returns: the batch and, per sample, the flat `(B, T)` index of its first response target.
    static func batch(_ samples: [Rollout]) throws -> (TrainingBatch, [Int]) {
        let batch = try TrainingBatch.packing(samples.map { $0.promptTokens + $0.responseTokens }, padToken: 0,
                                              lossStart: samples.map(\.promptTokens.count))
        return (batch, samples.indices.map { $0 * batch.T + samples[$0].promptTokens.count - 1 })
    }

    /// Places per-sample response values at their `(B, T)` positions.
    static func scatter(_ values: [[Float]], positions: [Int], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for (b, row) in values.enumerated() {
            for (t, v) in row.enumerated() { out[positions[b] + t] = v }
        }
        return out
    }
}
