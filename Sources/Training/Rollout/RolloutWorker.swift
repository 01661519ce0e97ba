import Dispatch
import Foundation
import Rewards
import TensorEngine

/// Draws a step's samples and grades each group as soon as its samples are done, while the
/// next groups are still being sampled.
///
/// It samples from a model of its own (`policy`), whose weights the run copies in from the
/// learner at the moments the pipeline allows, and stamps every sample with that version.
public final class RolloutWorker: @unchecked Sendable {
    // @unchecked: `policy` and `version` are only touched by the thread running `draw`, and
    // `load(weightsOf:version:)` is called by the run between draws.
    public let policy: Qwen2Model
    public private(set) var version = 0
    let prompts: PromptBuilder
    let grader: any RewardSource
    let graderJobs: Int

    public init(policy: Qwen2Model, prompts: PromptBuilder, grader: any RewardSource, graderJobs: Int) {
        self.policy = policy
        self.prompts = prompts
        self.grader = grader
        self.graderJobs = graderJobs
    }

    /// Copies `learner`'s weights into the sampling model, as version `version`.
    public func load(weightsOf learner: Qwen2Model, version: Int) {
        precondition(learner.parameters.count == policy.parameters.count, "sampler and learner differ in shape")
        policy.parameters.storage.update(from: learner.parameters.storage, count: policy.parameters.count)
        self.version = version
    }

    /// Rows the sampler decodes at once: groups share a batch up to this many sequences, since the
    /// matmuls of a batch of 8 rows cost almost as much as those of 64.
    public var samplingRows = 64

    /// Samples `groupSize` responses for each of `problems` and grades them.
    /// - Parameters:
    ///   - seed: the step's seed; sample `i` of prompt `p` draws from a generator seeded by (seed, p, i),
    ///     whichever groups share its sampling batch.
    public func draw(step: Int, problems: [Int], from set: [Problem], groupSize: Int, temperature: Double, topP: Double,
                     maxResponseTokens: Int, seed: UInt64) throws -> RolloutBatch {
        let sampler = Sampler(model: policy)
        let grading = DispatchGroup()
        let queue = DispatchQueue(label: "assay.training.grading", attributes: .concurrent)
        let slots = DispatchSemaphore(value: graderJobs)
        let groups = GradedGroups(count: problems.count)
        let start = Date()
        let groupsPerBatch = max(1, samplingRows / groupSize)
        for first in stride(from: 0, to: problems.count, by: groupsPerBatch) {
            let chunk = Array(problems.enumerated())[first..<min(first + groupsPerBatch, problems.count)]
            let promptTokens = chunk.map { prompts.tokens(for: set[$0.element]) }
            var parameters = SamplingParameters(temperature: Float(temperature), topP: Float(topP),
                                                maxNewTokens: maxResponseTokens, stopTokens: [prompts.endOfResponse])
            parameters.rowSeeds = chunk.flatMap { (_, index) in
                let groupSeed = Self.mix(seed, UInt64(step), UInt64(index))
                return (0..<groupSize).map { SamplingParameters.streamSeed(groupSeed, row: $0) }
            }
            let completions = try sampler.generate(prompts: promptTokens.flatMap { Array(repeating: $0, count: groupSize) },
                                                   parameters: parameters)
            for (c, (k, index)) in chunk.enumerated() {
                let samples = completions[(c * groupSize)..<((c + 1) * groupSize)].map { completion in
                    let ended: Bool = if case .stopToken = completion.finishReason { true } else { false }
                    let visible = ended ? Array(completion.tokens.dropLast()) : completion.tokens
                    return Rollout(problem: index, promptTokens: promptTokens[c], responseTokens: completion.tokens,
                                   logprobs: completion.logprobs, truncated: !ended, policyVersion: version,
                                   text: prompts.tokenizer.decode(visible), reward: nil, reason: "")
                }
                // Graded on other threads while the next prompts sample.
                slots.wait()
                grading.enter()
                queue.async { [grader] in
                    defer { slots.signal(); grading.leave() }
                    groups.set(k, Self.grade(RolloutGroup(problem: index, samples: samples), problem: set[index], grader: grader))
                }
            }
        }
        let sampled = Date()
        grading.wait()
        let graded = Date()
        return RolloutBatch(step: step, policyVersion: version, problems: problems, groups: groups.all,
                            sampleSeconds: sampled.timeIntervalSince(start), gradeSeconds: graded.timeIntervalSince(sampled),
                            maxResponseTokens: maxResponseTokens)
    }

    /// Grades a group's responses, each distinct text once: samples of one prompt often repeat
    /// (a small model's nearly always do), and a program's verdict on the same tests is its own.
    static func grade(_ group: RolloutGroup, problem: Problem, grader: any RewardSource) -> RolloutGroup {
        var group = group
        var distinct: [String] = []
        var position: [String: Int] = [:]
        for s in group.samples where position[s.text] == nil {
            position[s.text] = distinct.count
            distinct.append(s.text)
        }
        let results = grader.grade(problem: problem, responses: distinct)
        for i in group.samples.indices {
            let result = results[position[group.samples[i].text]!]
            group.samples[i].reason = result.error.map { "error: \($0)" } ?? result.reason
            if let reward = result.reward {
                group.samples[i].reward = reward
            } else {
                group.gradingError = group.gradingError ?? (result.error ?? "no reward")
            }
        }
        return group
    }

    /// A seed from (run seed, step, prompt): SplitMix64's finaliser over their combination.
    static func mix(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for v in values {
            h ^= v &+ 0x9E37_79B9_7F4A_7C15 &+ (h << 6) &+ (h >> 2)
            var z = h
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            h = z ^ (z >> 31)
        }
        return h
    }
}

/// The groups of one draw, filled in by the grading threads.
final class GradedGroups: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var groups: [RolloutGroup?]
    init(count: Int) { groups = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ group: RolloutGroup) { lock.withLock { groups[index] = group } }
    /// After every grading thread has finished.
    var all: [RolloutGroup] { lock.withLock { groups.map { $0! } } }
}
