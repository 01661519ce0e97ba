import Testing
@testable import Training

/// The coin-flip control: the same amount of reward as the sandbox gave, none of its information.
struct ControlRunTests {
    func batch(rewards: [[Double]]) -> RolloutBatch {
        let groups = rewards.enumerated().map { g, rs in
            RolloutGroup(problem: g, samples: rs.map {
                Rollout(problem: g, promptTokens: [1], responseTokens: [2], logprobs: [0], truncated: false,
                        policyVersion: 0, text: "", reward: $0, reason: $0 == 1 ? "passed" : "wrong_answer")
            })
        }
        return RolloutBatch(step: 3, policyVersion: 0, problems: Array(rewards.indices), groups: groups,
                            sampleSeconds: 0, gradeSeconds: 0, maxResponseTokens: 8)
    }

    @Test func coinFlipsKeepTheMeanAndTheSandboxRewardButNotWhichSamplePassed() {
        // 100 groups of 8: the first 2 samples of each group pass (mean 0.25).
        let real = batch(rewards: (0..<100).map { _ in [1, 1, 0, 0, 0, 0, 0, 0] })
        let flipped = TrainingRun.coinFlips(real, seed: 5)
        let samples = flipped.groups.flatMap(\.samples)
        let rewards = samples.map { $0.reward! }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        let overall = mean(rewards)
        #expect(abs(overall - 0.25) < 0.06, "mean \(overall)")
        #expect(samples.map { $0.sandboxReward! } == real.groups.flatMap(\.samples).map { $0.reward! })
        // The passing samples get no more reward than the others.
        let onPassed = samples.filter { $0.sandboxReward == 1 }.map { $0.reward! }
        let onFailed = samples.filter { $0.sandboxReward == 0 }.map { $0.reward! }
        let gap = abs(mean(onPassed) - mean(onFailed))
        #expect(gap < 0.15)
        #expect(TrainingRun.coinFlips(real, seed: 5).groups.flatMap(\.samples).map(\.reward) == rewards.map { $0 }, "seeded")
    }

    @Test func aGroupThatFailedToGradeStaysOut() {
        var real = batch(rewards: [[1, 0], [0, 1]])
        real.groups[1].gradingError = "sandbox error"
        real.groups[1].samples = real.groups[1].samples.map { var s = $0; s.reward = nil; return s }
        let flipped = TrainingRun.coinFlips(real, seed: 1)
        #expect(flipped.groups[1].samples.allSatisfy { $0.reward == nil && $0.sandboxReward == nil })
    }
}
