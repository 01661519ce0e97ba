import Foundation
import TensorEngine
import Testing
@testable import Training

/// The learner's guards, on a tiny random model (no sandbox needed).
struct LearnerTests {
    static func learner(version: Int = 0) throws -> GRPOLearner {
        let config = Qwen2Config(hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKVHeads: 1,
                                 vocabSize: 257, maxPositionEmbeddings: 64)
        let model = try Qwen2Model(config: config)
        model.initializeRandom(seed: 3)
        var recipe = TrainingRecipe(model: "", data: "")
        recipe.groupSize = 2
        recipe.promptsPerStep = 2
        recipe.promptsPerMiniBatch = 2
        recipe.learningRate = 1e-2
        return GRPOLearner(trainer: Trainer(model: model), recipe: recipe, version: version)
    }

    static func sample(problem: Int, reward: Double?, version: Int = 0, tokens: [Int32] = [65, 66, 67]) -> Rollout {
        Rollout(problem: problem, promptTokens: [1, 2, 3], responseTokens: tokens, logprobs: tokens.map { _ in -5.5 },
                truncated: false, policyVersion: version, text: "", reward: reward, reason: "")
    }

    static func batch(_ groups: [RolloutGroup]) -> RolloutBatch {
        RolloutBatch(step: 0, policyVersion: 0, problems: groups.map(\.problem), groups: groups, sampleSeconds: 0,
                     gradeSeconds: 0, maxResponseTokens: 8)
    }

    @Test func samplesMoreThanOneVersionOldAreRefused() throws {
        let learner = try Self.learner(version: 2)
        let old = Self.batch([RolloutGroup(problem: 0, samples: [Self.sample(problem: 0, reward: 1, version: 0),
                                                                 Self.sample(problem: 0, reward: 0, version: 0)])])
        #expect(throws: TrainingError.self) { try learner.update(old, useSamplerLogprobs: true) }
        let recent = Self.batch([RolloutGroup(problem: 0, samples: [Self.sample(problem: 0, reward: 1, version: 1),
                                                                    Self.sample(problem: 0, reward: 0, version: 1)])])
        _ = try learner.update(recent, useSamplerLogprobs: true)
        #expect(learner.version == 3)
    }

    /// A group whose grading failed leaves the update: the weights move exactly as if it were not
    /// there, which they would not if its missing rewards counted as 0.
    @Test func aGroupThatFailedToGradeLeavesTheUpdate() throws {
        let good = RolloutGroup(problem: 0, samples: [Self.sample(problem: 0, reward: 1), Self.sample(problem: 0, reward: 0, tokens: [70, 71])])
        var failed = RolloutGroup(problem: 1, samples: [Self.sample(problem: 1, reward: nil, tokens: [80]),
                                                        Self.sample(problem: 1, reward: 1, tokens: [81, 82])])
        failed.gradingError = "sandbox error"
        let a = try Self.learner(), b = try Self.learner()
        let metrics = try a.update(Self.batch([good, failed]), useSamplerLogprobs: true)
        _ = try b.update(Self.batch([good]), useSamplerLogprobs: true)
        #expect(metrics.groupsSkipped == 1 && metrics.samplesUsed == 2)
        let n = a.trainer.model.parameters.count
        let same = (0..<n).allSatisfy { a.trainer.model.parameters.storage[$0] == b.trainer.model.parameters.storage[$0] }
        #expect(same, "the failed group changed the update")
    }

    /// Overlong filtering in the learner: a truncated failure gets advantage 0 but its tokens
    /// stay in the token-mean denominator, so the other samples' gradients shrink.
    @Test func truncatedFailuresStayInTheDenominator() throws {
        var truncated = Self.sample(problem: 0, reward: 0, tokens: [90, 91, 92, 93, 94, 95])
        truncated.truncated = true
        let group = RolloutGroup(problem: 0, samples: [Self.sample(problem: 0, reward: 1), truncated])
        let (batch, _) = try GRPOLearner.batch(group.samples)
        #expect(batch.maskedCount == 9, "all 9 response tokens count")
        let learner = try Self.learner()
        let advantages = GRPOLearner.advantages(group.samples, recipe: learner.recipe)
        #expect(advantages[1] == 0 && advantages[0] > 0, "\(advantages)")
        // A truncated sample that passed keeps its advantage.
        var passed = truncated
        passed.reward = 1
        let kept = GRPOLearner.advantages([passed, Self.sample(problem: 0, reward: 0)], recipe: learner.recipe)
        #expect(kept[0] > 0, "\(kept)")
    }
}
