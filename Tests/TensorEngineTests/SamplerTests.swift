import Testing

@testable import TensorEngine

@Suite("KV-cached sampler")
struct SamplerTests {
    func makeModel() throws -> Qwen2Model {
        let model = try Qwen2Model(config: tinyConfig(vocab: 40))
        model.initializeRandom(seed: 21, std: 0.5)  // large weights: peaked, position-dependent distributions
        return model
    }

    /// The next-token logits by a full forward pass over the whole sequence (no cache).
    func recomputedLogits(_ model: Qwen2Model, _ sequence: [Int32]) -> [Float] {
        let V = model.config.vocabSize
        let logits = model.forward(tokens: sequence, B: 1, T: sequence.count)
        return Array(logits.array[((sequence.count - 1) * V)...])
    }

    @Test func greedyCachedDecodingEqualsRecomputingThePrefix() throws {
        let model = try makeModel()
        let prompts: [[Int32]] = [[1, 2, 3], [7], [5, 9, 11, 13, 2]]
        let completions = try Sampler(model: model).generate(
            prompts: prompts, parameters: .init(temperature: 0, maxNewTokens: 8))
        for (prompt, completion) in zip(prompts, completions) {
            var sequence = prompt
            for token in completion.tokens {
                let logits = recomputedLogits(model, sequence)
                let argmax = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                #expect(token == argmax, "cached and recomputed greedy decoding disagree after \(sequence)")
                sequence.append(token)
            }
            #expect(completion.tokens.count == 8)
            #expect(completion.finishReason == .length)
        }
    }

    @Test func sampledLogprobsMatchTheLearnersLogprobs() throws {
        // At temperature 1 with no filters the sampling distribution is the model's, so the sampler's log-probs
        // must equal the trainer's per-token log-probs of the same sequence (tolerance 1e-4).
        let model = try makeModel()
        let prompt: [Int32] = [3, 1, 4, 1, 5]
        let completion = try Sampler(model: model).generate(
            prompts: [prompt], parameters: .init(temperature: 1, maxNewTokens: 10, seed: 42))[0]
        let sequence = prompt + completion.tokens
        let batch = try TrainingBatch.packing([sequence], padToken: 0, lossStart: [prompt.count])
        let learner = Trainer(model: model).logProbs(batch)
        let fromLearner = Array(learner[(prompt.count - 1)..<(sequence.count - 1)])
        checkTensor(completion.logprobs, fromLearner, label: "sampler vs learner logprobs", atol: 1e-4)
    }

    @Test func seededAndIndependentOfBatchComposition() throws {
        let model = try makeModel()
        let p = SamplingParameters(temperature: 1.2, topP: 0.9, topK: 20, maxNewTokens: 12, seed: 7)
        let sampler = Sampler(model: model)
        let batch = try sampler.generate(prompts: [[1, 2], [3, 4, 5, 6]], parameters: p)
        let again = try sampler.generate(prompts: [[1, 2], [3, 4, 5, 6]], parameters: p)
        #expect(batch == again)
        var other = p
        other.seed = 8
        #expect(try sampler.generate(prompts: [[1, 2], [3, 4, 5, 6]], parameters: other) != batch)
        // Sequence 0 alone draws from the same stream as in the batch, and the cache keeps slots apart.
        let alone = try sampler.generate(prompts: [[1, 2]], parameters: p)
        // Tokens are identical; log-probs agree to float rounding (BLAS blocks a 1-row and a 2-row GEMM differently).
        #expect(alone[0].tokens == batch[0].tokens)
        checkTensor(alone[0].logprobs, batch[0].logprobs, label: "logprobs alone vs in a batch", atol: 1e-5)
    }

    @Test func topKOneAndTinyTopPAreGreedy() throws {
        let model = try makeModel()
        let sampler = Sampler(model: model)
        let greedy = try sampler.generate(prompts: [[2, 4, 6]], parameters: .init(temperature: 0, maxNewTokens: 6))
        let topK = try sampler.generate(prompts: [[2, 4, 6]], parameters: .init(topK: 1, maxNewTokens: 6, seed: 1))
        let topP = try sampler.generate(prompts: [[2, 4, 6]], parameters: .init(topP: 1e-6, maxNewTokens: 6, seed: 2))
        #expect(topK[0].tokens == greedy[0].tokens)
        #expect(topP[0].tokens == greedy[0].tokens)
        #expect(topK[0].logprobs.allSatisfy { $0 == 0 }, "a one-token distribution has log-probability 0")
    }

    @Test func stopsOnStopTokenAndStopString() throws {
        let model = try makeModel()
        let sampler = Sampler(model: model)
        let free = try sampler.generate(prompts: [[1, 2, 3]], parameters: .init(temperature: 0, maxNewTokens: 10))[0]
        let third = free.tokens[2]
        let firstThird = try #require(free.tokens.firstIndex(of: third))
        let stopped = try sampler.generate(
            prompts: [[1, 2, 3]], parameters: .init(temperature: 0, maxNewTokens: 10, stopTokens: [third]))[0]
        #expect(stopped.tokens == Array(free.tokens[...firstThird]))
        #expect(stopped.finishReason == .stopToken(third))

        let decode: ([Int32]) -> String = { $0.map { "<\($0)>" }.joined() }
        let stopString = "<\(free.tokens[1])>"
        let firstSecond = try #require(free.tokens.firstIndex(of: free.tokens[1]))
        let byString = try sampler.generate(
            prompts: [[1, 2, 3]], parameters: .init(temperature: 0, maxNewTokens: 10, stopStrings: [stopString]),
            decode: decode)[0]
        #expect(byString.tokens == Array(free.tokens[...firstSecond]))
        #expect(byString.finishReason == .stopString(stopString))
        #expect(throws: EngineError.self) {
            try sampler.generate(prompts: [[1]], parameters: .init(stopStrings: ["x"]))
        }
    }
}
