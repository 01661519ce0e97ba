import Foundation

// MARK: - Train-step API

/// The learner's view of a model: forward over a padded batch, per-token log-probabilities, backward of a
/// caller-given per-token gradient, and an optimizer step with global-norm clipping.
///
/// The policy-gradient learner uses it as:
/// ```swift
/// let logprobs = trainer.logProbs(batch)                    // (B, T), 0 where masked
/// trainer.backward(logProbGradients: weights)              // weights[b,t] = ∂loss/∂logprob[b,t], e.g. −A/n
/// let norm = trainer.step()                                // clip, AdamW, zero gradients
/// ```
/// Supervised training is the special case ``crossEntropyStep(_:)``. Backward calls accumulate until ``step(learningRate:)``,
/// so several micro-batches can form one optimizer step.
public final class Trainer: @unchecked Sendable {
    /// The model being trained.
    public let model: Qwen2Model
    /// The optimizer; its moments have the model's parameter layout.
    public let optimizer: AdamW
    /// Clip the global gradient norm to this before each step; 0 disables clipping. 1.0 as in nanoGPT.
    public var maxGradientNorm: Float = 1.0

    private var batch: TrainingBatch?
    private var lse: [Float] = []  // (B, T), from the last logProbs call
    private var temperature: Float = 1  // of the last logProbs call

    /// Creates a trainer around a model.
    public init(model: Qwen2Model, hyperparameters: AdamW.Hyperparameters = AdamW.Hyperparameters()) {
        self.model = model
        self.optimizer = AdamW(parameters: model.parameters, hyperparameters: hyperparameters)
    }

    /// Runs the forward pass and returns the log-probability of each target token.
    /// - Parameters:
    ///   - batch: the padded batch.
    ///   - temperature: the distribution is softmax(logits / temperature), as the sampler draws at that
    ///     temperature (verl computes the policy's log-probs the same way).
    /// - Returns: `(B, T)` log-probabilities, 0 where `mask` is 0.
    public func logProbs(_ batch: TrainingBatch, temperature: Float = 1) -> [Float] {
        let logits = model.forward(tokens: batch.tokens, B: batch.B, T: batch.T)  // (B, T, V)
        let N = batch.B * batch.T
        self.temperature = temperature
        if temperature != 1 {
            // Scaled in place: backward then differentiates the scaled logits and applies 1/T.
            let count = N * model.config.vocabSize
            for i in 0..<count { logits.data[i] /= temperature }
        }
        var logprobs = [Float](repeating: 0, count: N)  // (B, T)
        lse = [Float](repeating: 0, count: N)
        model.backend.logSoftmaxGatherForward(
            logprobs: &logprobs, lse: &lse, logits: logits.data, targets: batch.targets, mask: batch.mask,
            N: N, V: model.config.vocabSize)
        self.batch = batch
        return logprobs
    }

    /// Back-propagates `∂loss/∂logprob` for each token of the last ``logProbs(_:)`` batch into the gradients.
    ///
    /// For the token-level policy-gradient loss `−Σ A·r / n` pass `−A / n` (times the clip factor's derivative);
    /// masked positions are ignored whatever their weight.
    /// - Parameter logProbGradients: `(B, T)`.
    public func backward(logProbGradients: [Float]) {
        guard let batch, let logits = model.activations?.logits else {
            preconditionFailure("Trainer.backward called before logProbs")
        }
        let N = batch.B * batch.T, V = model.config.vocabSize
        precondition(logProbGradients.count == N, "backward: \(logProbGradients.count) weights for \(N) positions")
        let dlogits = Tensor(shape: [N, V])  // (B, T, V)
        model.backend.logSoftmaxGatherBackward(
            dlogits: dlogits.data, dlogprobs: logProbGradients, logits: logits.data, lse: lse,
            targets: batch.targets, mask: batch.mask, N: N, V: V)
        if temperature != 1 {
            for i in 0..<(N * V) { dlogits.data[i] /= temperature }
        }
        model.backward(dlogits: dlogits.data)
    }

    /// Forward and backward of the mean cross-entropy over the masked positions (gradients accumulate).
    /// - Returns: the mean loss in nats per token.
    @discardableResult
    public func crossEntropyStep(_ batch: TrainingBatch) -> Float {
        let logprobs = logProbs(batch)
        let count = max(batch.maskedCount, 1)
        var total: Double = 0
        for i in 0..<logprobs.count where batch.mask[i] != 0 { total -= Double(logprobs[i]) }
        backward(logProbGradients: batch.mask.map { -$0 / Float(count) })
        return Float(total / Double(count))
    }

    /// Clips the accumulated gradients, applies AdamW and zeroes the gradients.
    /// - Parameter learningRate: this step's rate (for a schedule), or nil for the configured one.
    /// - Returns: the global gradient norm before clipping.
    @discardableResult
    public func step(learningRate: Float? = nil) -> Float {
        let norm = clipGradientNorm(model.gradients, maxNorm: maxGradientNorm)
        optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate)
        model.zeroGradients()
        return norm
    }

    // MARK: Checkpoints

    /// Saves the weights (`config.json`, `model.safetensors`, loadable by transformers) and the optimizer state
    /// (`optimizer.safetensors`: `m.<name>`, `v.<name>`, step count and hyperparameters in the metadata).
    /// - Throws: ``EngineError/io(_:)``.
    public func saveCheckpoint(directory: URL) throws {
        try model.save(directory: directory)
        var tensors: [(name: String, shape: [Int], data: UnsafePointer<Float>)] = []
        for (prefix, set) in [("m.", optimizer.m), ("v.", optimizer.v)] {
            for e in set.entries { tensors.append((prefix + e.name, e.shape, UnsafePointer(set.storage + e.offset))) }
        }
        let h = try String(decoding: JSONEncoder().encode(optimizer.hyperparameters), as: UTF8.self)
        try SafeTensors.write(
            tensors,
            metadata: ["step": String(optimizer.stepCount), "hyperparameters": h,
                       "max_gradient_norm": String(maxGradientNorm)],
            to: directory.appendingPathComponent("optimizer.safetensors"))
    }

    /// Restores a trainer saved by ``saveCheckpoint(directory:)``, so training continues exactly where it stopped.
    /// - Throws: ``EngineError`` if the weights or the optimizer state are missing or do not match.
    public static func resume(directory: URL, backend: any Backend = CPUBackend()) throws -> Trainer {
        let model = try Qwen2Model.load(directory: directory, backend: backend)
        let url = directory.appendingPathComponent("optimizer.safetensors")
        let (tensors, metadata) = try SafeTensors.read(url)
        guard let stepText = metadata["step"], let step = Int(stepText),
            let hText = metadata["hyperparameters"],
            let h = try? JSONDecoder().decode(AdamW.Hyperparameters.self, from: Data(hText.utf8))
        else { throw EngineError.format("\(url.path): metadata lacks step or hyperparameters") }
        let trainer = Trainer(model: model, hyperparameters: h)
        trainer.maxGradientNorm = metadata["max_gradient_norm"].flatMap(Float.init) ?? trainer.maxGradientNorm
        for (prefix, set) in [("m.", trainer.optimizer.m), ("v.", trainer.optimizer.v)] {
            for e in set.entries {
                guard let t = tensors[prefix + e.name], t.shape == e.shape else {
                    throw EngineError.format("\(url.path): \(prefix + e.name) is missing or has the wrong shape")
                }
                t.values.withUnsafeBufferPointer { (set.storage + e.offset).update(from: $0.baseAddress!, count: e.count) }
            }
        }
        trainer.optimizer.restore(stepCount: step)
        return trainer
    }
}
