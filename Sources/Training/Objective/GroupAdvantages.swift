/// GRPO's outcome advantage, as verl computes it (`compute_grpo_outcome_advantage`): within each
/// group of samples drawn for one prompt, `A = (r − mean) / (std + ε)` with the unbiased (N − 1)
/// standard deviation; a group of one sample has mean 0 and std 1, so its advantage is its reward.
/// Without `normalizeByStd` it is Dr. GRPO's `r − mean`.
public enum GroupAdvantages {
    /// - Parameters:
    ///   - rewards: one scalar reward per sample.
    ///   - groups: the group (prompt) of each sample, same count as `rewards`.
    ///   - epsilon: added to the std (verl: 1e-6).
    /// - Returns: one advantage per sample.
    public static func compute(rewards: [Double], groups: [Int], normalizeByStd: Bool = true,
                               epsilon: Double = 1e-6) -> [Double] {
        precondition(rewards.count == groups.count, "one group id per reward")
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        var advantages = [Double](repeating: 0, count: rewards.count)
        for indices in members.values {
            var mean = 0.0, std = 1.0
            if indices.count > 1 {
                mean = indices.reduce(0) { $0 + rewards[$1] } / Double(indices.count)
                let squares = indices.reduce(0) { $0 + (rewards[$1] - mean) * (rewards[$1] - mean) }
                std = (squares / Double(indices.count - 1)).squareRoot()
            }
            for i in indices {
                advantages[i] = normalizeByStd ? (rewards[i] - mean) / (std + epsilon) : rewards[i] - mean
            }
        }
        return advantages
    }

    /// DeepCoder's overlong filtering: a sample that failed (reward 0) and was cut off at the
    /// response budget without an end of sequence teaches nothing about correctness, so its
    /// advantage becomes 0. Its tokens stay in the loss's denominator (the mask is unchanged).
    /// A truncated sample that passed keeps its advantage.
    public static func filterOverlong(_ advantages: [Double], rewards: [Double], truncated: [Bool]) -> [Double] {
        precondition(advantages.count == rewards.count && rewards.count == truncated.count)
        return advantages.indices.map { truncated[$0] && rewards[$0] == 0 ? 0 : advantages[$0] }
    }
}
