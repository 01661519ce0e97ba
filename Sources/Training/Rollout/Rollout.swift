/// One sampled response and what the sandbox made of it.
public struct Rollout: Sendable, Codable {
    public var problem: Int
    public var promptTokens: [Int32]
    /// Response tokens, the end-of-response token included when the model produced it.
    public var responseTokens: [Int32]
    /// The sampler's log-probability of each response token (at the sampling temperature).
    public var logprobs: [Float]
    /// No end-of-response within the budget in force.
    public var truncated: Bool
    /// The weights version that drew it (the learner refuses versions more than one step old).
    public var policyVersion: Int
    public var text: String
    /// 0 or 1; nil when grading failed (never counted as 0).
    public var reward: Double?
    public var reason: String
    /// In a coin-flip control run, the sandbox's reward that `reward` replaced.
    public var sandboxReward: Double? = nil
}

/// The samples of one prompt, graded together.
public struct RolloutGroup: Sendable, Codable {
    public var problem: Int
    public var samples: [Rollout]
    /// Why grading failed (a sandbox error, a null reward): the group leaves the update.
    public var gradingError: String?
}

/// One step's groups, with where the time went.
public struct RolloutBatch: Sendable, Codable {
    public var step: Int
    public var policyVersion: Int
    public var problems: [Int]
    public var groups: [RolloutGroup]
    public var sampleSeconds: Double
    /// Grading time not hidden behind sampling (waiting for the last groups).
    public var gradeSeconds: Double
    public var maxResponseTokens: Int
}
