import Foundation
import Testing

@testable import TensorEngine

/// A tiny model (fast in a debug build) for training tests.
func tinyConfig(vocab: Int = 64, tied: Bool = false) -> Qwen2Config {
    Qwen2Config(hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKVHeads: 2, vocabSize: vocab,
                ropeTheta: 10_000, rmsNormEps: 1e-6, attentionBias: true, tieWordEmbeddings: tied,
                maxPositionEmbeddings: 128)
}

@Suite("Optimizer and train step")
struct TrainingTests {
    @Test func adamWAndClippingMatchPyTorch() throws {
        // Golden from torch.optim.AdamW(lr 0.01, betas (0.9, 0.95), wd 0.1 on the matrix only) with
        // clip_grad_norm_(max_norm 2) over three steps. Tolerance 1e-6 absolute (values are O(1)).
        let (g, _) = try SafeTensors.read(testdataDirectory.appendingPathComponent("golden/adamw.safetensors"))
        let params = ParameterSet(layout: [("w", [3, 4]), ("b", [4])], backend: CPUBackend())
        let grads = params.makeZeroedLike()
        for name in ["w", "b"] {
            try #require(g["p0." + name]).values.withUnsafeBufferPointer {
                params.pointer(name).update(from: $0.baseAddress!, count: $0.count)
            }
        }
        let adam = AdamW(parameters: params, hyperparameters: .init(learningRate: 0.01, beta1: 0.9, beta2: 0.95,
                                                                    eps: 1e-8, weightDecay: 0.1))
        for k in 0..<3 {
            for name in ["w", "b"] {
                try #require(g["grad\(k)." + name]).values.withUnsafeBufferPointer {
                    grads.pointer(name).update(from: $0.baseAddress!, count: $0.count)
                }
            }
            clipGradientNorm(grads, maxNorm: 2)
            adam.step(parameters: params, gradients: grads)
        }
        checkTensor(params.values("w"), try #require(g["p3.w"]).values, label: "w after 3 steps", atol: 1e-6)
        checkTensor(params.values("b"), try #require(g["p3.b"]).values, label: "b after 3 steps", atol: 1e-6)
    }

    @Test func clipReturnsNormAndScales() {
        let set = ParameterSet(layout: [("a", [2]), ("b", [1])], backend: CPUBackend())
        set.storage[0] = 3; set.storage[1] = 0; set.storage[2] = 4
        #expect(clipGradientNorm(set, maxNorm: 10) == 5)
        #expect(set.storage[2] == 4, "no scaling below the limit")
        #expect(clipGradientNorm(set, maxNorm: 1) == 5)
        #expect(abs(clipGradientNorm(set, maxNorm: 0) - 1) < 1e-5, "norm after clipping to 1")
    }

    @Test func packingShiftsTargetsAndMasksPromptAndPadding() throws {
        let batch = try TrainingBatch.packing([[5, 6, 7, 8], [9, 10]], padToken: 0, lossStart: [2, 1])
        #expect(batch.T == 3)
        #expect(batch.tokens == [5, 6, 7, 9, 0, 0])
        #expect(batch.targets == [6, 7, 8, 10, 0, 0])
        #expect(batch.mask == [0, 1, 1, 1, 0, 0])  // token 6 is prompt; row 2 has one real target
        #expect(throws: EngineError.self) { try TrainingBatch.packing([[1]], padToken: 0) }
    }

    /// At temperature 1 and at a sampling temperature (the policy is softmax(logits / T), as the sampler draws).
    @Test(arguments: [Float(1), 0.6])
    func policyGradientBackwardMatchesFiniteDifferences(temperature: Float) throws {
        // The whole model end to end: L = Σ w·logprob over unmasked positions, checked on sampled parameters of
        // every kind (tolerance 2e-3 absolute + 2e-2 relative, eps 1e-2; loss summed in Double).
        let model = try Qwen2Model(config: tinyConfig(vocab: 24, tied: true))
        model.initializeRandom(seed: 3, std: 0.3)
        let trainer = Trainer(model: model)
        let batch = try TrainingBatch.packing([[1, 5, 9, 2, 7], [3, 4, 8]], padToken: 0, lossStart: [2, 1])
        let weights = randomValues(batch.B * batch.T, seed: 11)
        func loss() -> Double {
            let lp = trainer.logProbs(batch, temperature: temperature)
            return zip(lp, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = loss()
        model.zeroGradients()
        trainer.backward(logProbGradients: weights)
        for name in ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                     "model.layers.0.self_attn.k_proj.bias", "model.layers.1.self_attn.v_proj.weight",
                     "model.layers.1.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                     "model.norm.weight"] {
            let e = try #require(model.parameters.entry(name))
            finiteDifferenceCheck(name, x: model.parameters.storage + e.offset, count: e.count,
                                  analytic: model.gradients.values(name), samples: 8, loss: loss)
        }
    }

    @Test func lossFallsOnRepeatedText() throws {
        // 40 AdamW steps on a 48-byte snippet, batch 4 × 24: a working model memorises it, so the loss must fall
        // from about ln(64) ≈ 4.16 to well under half of that. A broken gradient leaves it near 4.
        let text = Array("def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n".utf8).map { Int32($0 % 64) }
        let model = try Qwen2Model(config: tinyConfig())
        model.initializeRandom(seed: 1)
        let trainer = Trainer(model: model, hyperparameters: .init(learningRate: 1e-2, weightDecay: 0))
        let T = 24
        func batch(_ step: Int) throws -> TrainingBatch {
            try TrainingBatch.packing((0..<4).map { i in
                let start = (step * 7 + i * 11) % (text.count - T - 1)
                return Array(text[start...(start + T)])
            }, padToken: 0)
        }
        let first = trainer.crossEntropyStep(try batch(0))
        trainer.step()
        var last = first
        for s in 1..<40 {
            last = trainer.crossEntropyStep(try batch(s))
            trainer.step()
        }
        #expect(first > 3.5, "initial loss \(first) should be near ln(64)")
        #expect(last < first / 2, "loss went from \(first) to \(last)")
    }

    @Test func checkpointResumeContinuesIdentically() throws {
        let model = try Qwen2Model(config: tinyConfig())
        model.initializeRandom(seed: 5)
        let trainer = Trainer(model: model, hyperparameters: .init(learningRate: 5e-3))
        var batches: [TrainingBatch] = []
        for s in 0..<3 {
            let a: [Int32] = (0..<9).map { Int32(($0 * 3 + s) % 64) }
            let b: [Int32] = (0..<6).map { Int32($0 + s) }
            batches.append(try TrainingBatch.packing([a, b], padToken: 0))
        }
        trainer.crossEntropyStep(batches[0]); trainer.step()
        trainer.crossEntropyStep(batches[1]); trainer.step()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("te-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try trainer.saveCheckpoint(directory: dir)
        trainer.crossEntropyStep(batches[2]); trainer.step()

        let resumed = try Trainer.resume(directory: dir)
        #expect(resumed.optimizer.stepCount == 2)
        resumed.crossEntropyStep(batches[2]); resumed.step()
        #expect(resumed.model.parameters.values("model.layers.1.mlp.up_proj.weight")
                == model.parameters.values("model.layers.1.mlp.up_proj.weight"), "bitwise equal after resume")
        #expect(resumed.optimizer.v.values("lm_head.weight") == trainer.optimizer.v.values("lm_head.weight"))
    }
}
