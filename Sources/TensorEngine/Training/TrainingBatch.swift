// MARK: - Padded batches

/// A right-padded batch for next-token training: `targets[b, t]` is the token that should follow `tokens[b, t]`,
/// and `mask[b, t]` says whether that position counts (0 for padding and, for RL, for prompt positions).
public struct TrainingBatch: Sendable {
    /// Rows.
    public let B: Int
    /// Positions per row.
    public let T: Int
    /// `(B, T)` input ids.
    public var tokens: [Int32]
    /// `(B, T)` the next token at each position (any valid id where masked).
    public var targets: [Int32]
    /// `(B, T)` 1 where the position's log-probability counts, else 0.
    public var mask: [Float]

    /// Creates a batch from prepared arrays.
    /// - Precondition: all three arrays hold `B * T` values.
    public init(B: Int, T: Int, tokens: [Int32], targets: [Int32], mask: [Float]) {
        precondition(tokens.count == B * T && targets.count == B * T && mask.count == B * T,
                     "TrainingBatch: arrays must hold B*T = \(B * T) values")
        self.B = B
        self.T = T
        self.tokens = tokens
        self.targets = targets
        self.mask = mask
    }

    /// Packs variable-length sequences into a right-padded batch.
    ///
    /// Position `t` of row `b` predicts `sequences[b][t + 1]`, so a sequence of length n yields n − 1 targets. With
    /// `lossStart`, targets before that index of each sequence (the prompt) are masked out, so only the completion
    /// is trained on, as the policy-gradient learner needs.
    ///
    /// - Parameters:
    ///   - sequences: token ids, each at least 2 long.
    ///   - padToken: the id used for padding (masked out).
    ///   - lossStart: per sequence, the first index whose token is a target that counts (default 1: all of them).
    ///   - T: the padded length; defaults to the longest sequence minus one.
    /// - Throws: ``EngineError/invalidArgument(_:)`` if a sequence is shorter than 2 or longer than `T + 1`.
    public static func packing(
        _ sequences: [[Int32]], padToken: Int32, lossStart: [Int]? = nil, T: Int? = nil
    ) throws -> TrainingBatch {
        let longest = (sequences.map(\.count).max() ?? 2) - 1
        let T = T ?? longest
        let B = sequences.count
        var tokens = [Int32](repeating: padToken, count: B * T)
        var targets = [Int32](repeating: padToken, count: B * T)
        var mask = [Float](repeating: 0, count: B * T)
        for (b, seq) in sequences.enumerated() {
            guard seq.count >= 2, seq.count - 1 <= T else {
                throw EngineError.invalidArgument("sequence \(b) has \(seq.count) tokens; need 2 ... \(T + 1)")
            }
            let start = max(1, lossStart?[b] ?? 1)
            for t in 0..<(seq.count - 1) {
                tokens[b * T + t] = seq[t]
                targets[b * T + t] = seq[t + 1]
                mask[b * T + t] = t + 1 >= start ? 1 : 0
            }
        }
        return TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, mask: mask)
    }

    /// The number of positions that count.
    public var maskedCount: Int { mask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}
