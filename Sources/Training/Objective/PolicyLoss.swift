import Foundation

/// How per-token losses become one number (verl's `agg_loss` modes).
public enum LossAggregation: String, Codable, Sendable, CaseIterable {
    /// Masked sum over the mini-batch / number of unmasked tokens (DeepCoder, verl's default).
    case tokenMean = "token-mean"
    /// Mean over sequences of each sequence's token sum.
    case seqMeanTokenSum = "seq-mean-token-sum"
    /// Mean over sequences of each sequence's token mean.
    case seqMeanTokenMean = "seq-mean-token-mean"
    /// Mean over sequences of each sequence's token sum, divided by a constant (verl: the padded length).
    case seqMeanTokenSumNorm = "seq-mean-token-sum-norm"
    /// Masked sum over the mini-batch.
    case tokenSum = "token-sum"
}

/// The clipped policy-gradient objective of GRPO+ (verl's `compute_policy_loss_vanilla` semantics).
public struct PolicyLossSettings: Codable, Sendable, Equatable {
    /// ε_low: the ratio is clipped below at 1 − clipLow.
    public var clipLow: Double = 0.2
    /// ε_high ("clip-high", DAPO): the ratio is clipped above at 1 + clipHigh.
    public var clipHigh: Double = 0.28
    /// Dual-clip constant c (> 1) for negative advantages; nil is off (DeepCoder), 3.0 is verl's vanilla loss.
    public var dualClip: Double? = nil
    public var aggregation: LossAggregation = .tokenMean
    /// The constant of `seq-mean-token-sum-norm`; nil: the padded response length T.
    public var aggregationNorm: Double? = nil

    public init(clipLow: Double = 0.2, clipHigh: Double = 0.28, dualClip: Double? = nil,
                aggregation: LossAggregation = .tokenMean, aggregationNorm: Double? = nil) {
        self.clipLow = clipLow
        self.clipHigh = clipHigh
        self.dualClip = dualClip
        self.aggregation = aggregation
        self.aggregationNorm = aggregationNorm
    }

    /// Missing keys keep their defaults, so a recipe names only what it changes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clipLow = try c.decodeIfPresent(Double.self, forKey: .clipLow) ?? 0.2
        clipHigh = try c.decodeIfPresent(Double.self, forKey: .clipHigh) ?? 0.28
        dualClip = try c.decodeIfPresent(Double.self, forKey: .dualClip)
        aggregation = try c.decodeIfPresent(LossAggregation.self, forKey: .aggregation) ?? .tokenMean
        aggregationNorm = try c.decodeIfPresent(Double.self, forKey: .aggregationNorm)
    }
}

/// What one mini-batch's policy loss measured (logged per step).
public struct PolicyLossMetrics: Sendable, Equatable {
    public var loss: Double
    /// Fraction of tokens where the clipped term won (verl's pg_clipfrac).
    public var clipFraction: Double
    /// Fraction of tokens where the dual clip acted (negative advantage, ratio above c).
    public var lowerClipFraction: Double
    /// Mean of old_logp − logp over the tokens (verl's ppo_kl).
    public var ppoKL: Double
}

/// The GRPO+ token loss over a padded mini-batch of responses, forward and backward.
///
///     Δ      = clamp(logp − old_logp, −20, 20)          (B, T)
///     ratio  = exp(Δ)
///     L1     = −A·ratio,  L2 = −A·clamp(ratio, 1 − ε_low, 1 + ε_high),  C1 = max(L1, L2)
///     L      = A < 0 ? min(−A·c, C1) : C1                (dual clip, when c is set)
///     loss   = aggregate(L, mask)
///
/// `A` is per sequence (broadcast over its tokens). The backward gives ∂loss/∂logp per token,
/// which `Trainer.backward(logProbGradients:)` takes through the model.
public enum PolicyLoss {
    /// - Parameters:
    ///   - logp: `(B, T)` the learner's log-probabilities of the response tokens.
    ///   - oldLogp: `(B, T)` the behaviour policy's (sampler's, or recomputed) log-probabilities.
    ///   - advantages: `(B)` one per sequence.
    ///   - mask: `(B, T)` 1 for response tokens, 0 for padding.
    /// - Returns: the metrics, and `(B, T)` ∂loss/∂logp (0 where masked).
    public static func forwardBackward(logp: [Float], oldLogp: [Float], advantages: [Double], mask: [Float],
                                       B: Int, T: Int, settings: PolicyLossSettings) -> (PolicyLossMetrics, [Float]) {
        precondition(logp.count == B * T && oldLogp.count == B * T && mask.count == B * T && advantages.count == B)
        let weights = aggregationWeights(mask: mask, B: B, T: T, settings: settings)  // (B, T) ∂loss/∂L
        var loss = 0.0, clipped = 0.0, lowerClipped = 0.0, kl = 0.0, tokens = 0.0
        var dlogp = [Float](repeating: 0, count: B * T)  // (B, T)
        for b in 0..<B {
            let A = advantages[b]
            for t in 0..<T where mask[b * T + t] != 0 {
                let i = b * T + t
                let raw = Double(logp[i]) - Double(oldLogp[i])
                let delta = min(max(raw, -20), 20)
                let ratio = Foundation.exp(delta)
                let clampedRatio = min(max(ratio, 1 - settings.clipLow), 1 + settings.clipHigh)
                let l1 = -A * ratio, l2 = -A * clampedRatio
                var value = max(l1, l2)
                // ∂L/∂ratio: through the unclipped term, or the clipped one while it is not clamped.
                var dratio = l1 >= l2 ? -A : (clampedRatio == ratio ? -A : 0)
                if l2 > l1 { clipped += 1 }
                if let c = settings.dualClip, A < 0 {
                    let l3 = -A * c
                    if value > l3 {
                        lowerClipped += 1
                        value = l3
                        dratio = 0
                    }
                }
                // ∂ratio/∂logp = ratio inside the ±20 clamp, 0 outside it.
                let dvalue = abs(raw) < 20 ? dratio * ratio : 0
                loss += weights[i] * value
                dlogp[i] = Float(weights[i] * dvalue)
                kl -= delta
                tokens += 1
            }
        }
        let n = max(tokens, 1)
        return (PolicyLossMetrics(loss: loss, clipFraction: clipped / n, lowerClipFraction: lowerClipped / n, ppoKL: kl / n), dlogp)
    }

    /// ∂loss/∂L for each token under the aggregation: the loss is Σ weight·L.
    static func aggregationWeights(mask: [Float], B: Int, T: Int, settings: PolicyLossSettings) -> [Double] {
        var lengths = [Double](repeating: 0, count: B)
        for b in 0..<B { for t in 0..<T where mask[b * T + t] != 0 { lengths[b] += 1 } }
        let tokens = lengths.reduce(0, +)
        // Fully masked sequences are left out of the sequence means.
        let sequences = Double(max(lengths.filter { $0 > 0 }.count, 1))
        var weights = [Double](repeating: 0, count: B * T)
        for b in 0..<B where lengths[b] > 0 {
            let w: Double = switch settings.aggregation {
            case .tokenMean: 1 / max(tokens, 1)
            case .seqMeanTokenSum: 1 / sequences
            case .seqMeanTokenMean: 1 / (sequences * lengths[b])
            case .seqMeanTokenSumNorm: 1 / (sequences * (settings.aggregationNorm ?? Double(T)))
            case .tokenSum: 1
            }
            for t in 0..<T where mask[b * T + t] != 0 { weights[b * T + t] = w }
        }
        return weights
    }
}
