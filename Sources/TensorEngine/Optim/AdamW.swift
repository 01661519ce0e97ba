import Foundation

// MARK: - AdamW

/// AdamW with decoupled weight decay and bias correction, matching `torch.optim.AdamW`.
///
/// Moments live in two ``ParameterSet``s with the parameters' layout, so the update is one pass over the single
/// parameter allocation. Following nanoGPT, weight decay applies only to tensors of rank ≥ 2 (matrices and
/// embeddings), never to norm weights or biases.
public final class AdamW: @unchecked Sendable {
    /// Optimizer settings; defaults are the common LM-training choices, with why.
    public struct Hyperparameters: Codable, Sendable, Equatable {
        /// Step size (units of the parameters per step).
        public var learningRate: Float = 3e-4
        /// First-moment decay.
        public var beta1: Float = 0.9
        /// Second-moment decay: 0.95 rather than 0.999, more stable for transformers (GPT-3, nanoGPT).
        public var beta2: Float = 0.95
        /// Added to the denominator; 1e-8 as in PyTorch.
        public var eps: Float = 1e-8
        /// Decoupled decay per unit of learning rate; 0.1 as in GPT-3/nanoGPT.
        public var weightDecay: Float = 0.1

        /// Creates settings; every argument defaults as documented on its property.
        public init(learningRate: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8,
                    weightDecay: Float = 0.1) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
        }
    }

    /// The settings used by ``step(parameters:gradients:learningRate:)``.
    public var hyperparameters: Hyperparameters
    /// Steps taken so far (the bias correction's `t`).
    public private(set) var stepCount: Int = 0
    /// First moments, same layout as the parameters.
    public let m: ParameterSet
    /// Second moments, same layout as the parameters.
    public let v: ParameterSet

    /// Creates an optimizer with zeroed moments for parameters laid out like `parameters`.
    public init(parameters: ParameterSet, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.hyperparameters = hyperparameters
        self.m = parameters.makeZeroedLike()
        self.v = parameters.makeZeroedLike()
    }

    /// Applies one update: `p -= lr·wd·p` (rank ≥ 2 only), then `p -= lr · m̂ / (√v̂ + eps)`.
    /// - Parameters:
    ///   - parameters: updated in place.
    ///   - gradients: same layout; not modified.
    ///   - learningRate: overrides the configured rate for this step (for schedules), or nil.
    public func step(parameters: ParameterSet, gradients: ParameterSet, learningRate: Float? = nil) {
        precondition(parameters.count == m.count && gradients.count == m.count, "AdamW: parameter layouts differ")
        stepCount += 1
        let h = hyperparameters
        let lr = learningRate ?? h.learningRate
        let correction1 = 1 - powf(h.beta1, Float(stepCount))
        let correction2 = 1 - powf(h.beta2, Float(stepCount))
        for entry in parameters.entries {
            let p = parameters.storage + entry.offset  // (entry.count)
            let g = gradients.storage + entry.offset
            let mm = m.storage + entry.offset
            let vv = v.storage + entry.offset
            let decay: Float = entry.shape.count >= 2 ? 1 - lr * h.weightDecay : 1
            for i in 0..<entry.count {
                let gi = g[i]
                mm[i] = h.beta1 * mm[i] + (1 - h.beta1) * gi
                vv[i] = h.beta2 * vv[i] + (1 - h.beta2) * gi * gi
                let mHat = mm[i] / correction1
                let vHat = vv[i] / correction2
                p[i] = p[i] * decay - lr * mHat / (vHat.squareRoot() + h.eps)
            }
        }
    }

    /// Restores the step count (the moments are restored by writing into ``m`` and ``v``).
    public func restore(stepCount: Int) { self.stepCount = stepCount }
}

// MARK: - Gradient clipping

/// Scales all gradients so their global L2 norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_` does.
///
/// - Parameters:
///   - gradients: scaled in place when their norm exceeds `maxNorm`.
///   - maxNorm: the largest allowed norm; 0 or less disables clipping (the norm is still returned).
/// - Returns: the norm before clipping, accumulated in Double.
@discardableResult
public func clipGradientNorm(_ gradients: ParameterSet, maxNorm: Float) -> Float {
    var sumSquares: Double = 0
    let g = gradients.storage
    for i in 0..<gradients.count { sumSquares += Double(g[i]) * Double(g[i]) }
    let norm = Float(sumSquares.squareRoot())
    if maxNorm > 0 && norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)  // PyTorch's clip coefficient
        for i in 0..<gradients.count { g[i] *= scale }
    }
    return norm
}
