#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// MARK: - Sampling

/// How to pick each next token.
public struct SamplingParameters: Sendable {
    /// Softmax temperature; 0 means greedy (argmax). 1.0 samples the model's own distribution.
    public var temperature: Float = 1.0
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches this; 1.0 keeps all.
    public var topP: Float = 1.0
    /// Keep only the `topK` most likely tokens; 0 keeps all.
    public var topK: Int = 0
    /// Stop after this many generated tokens.
    public var maxNewTokens: Int = 64
    /// Token ids that end a sequence (EOS, `<|im_end|>`); the stop token is included in the output.
    public var stopTokens: Set<Int32> = []
    /// Strings that end a sequence once the decoded completion contains one (needs a decoder).
    public var stopStrings: [String] = []
    /// Fixes every random choice; sequence `i` of a batch uses its own stream derived from `seed` and `i`.
    public var seed: UInt64 = 0
    /// When set, sequence `i` draws from the stream seeded by `rowSeeds[i]` instead (one per prompt), so
    /// prompts that used to be sampled in separate calls can share one batch and keep their draws.
    public var rowSeeds: [UInt64]? = nil

    /// The stream seed of sequence `row` of a batch sampled with `seed` (and no `rowSeeds`).
    public static func streamSeed(_ seed: UInt64, row: Int) -> UInt64 { seed &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15 }

    /// The stream seed of sequence `i`.
    func streamSeed(_ i: Int) -> UInt64 { rowSeeds?[i] ?? Self.streamSeed(seed, row: i) }

    /// Creates parameters; each defaults as documented on its property.
    public init(temperature: Float = 1.0, topP: Float = 1.0, topK: Int = 0, maxNewTokens: Int = 64,
                stopTokens: Set<Int32> = [], stopStrings: [String] = [], seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.maxNewTokens = maxNewTokens
        self.stopTokens = stopTokens
        self.stopStrings = stopStrings
        self.seed = seed
    }
}

/// One generated completion.
public struct Completion: Sendable, Equatable {
    /// Why generation ended.
    public enum FinishReason: Sendable, Equatable {
        /// A stop token was generated (included in ``Completion/tokens``).
        case stopToken(Int32)
        /// The decoded text came to contain this stop string.
        case stopString(String)
        /// ``SamplingParameters/maxNewTokens`` or the cache capacity was reached.
        case length
    }

    /// The generated token ids (without the prompt).
    public var tokens: [Int32]
    /// For each generated token, its natural-log probability under the distribution it was drawn from
    /// (after temperature, top-k and top-p; 0 for greedy decoding).
    public var logprobs: [Float]
    /// Why generation ended.
    public var finishReason: FinishReason
}

/// Batched autoregressive generation with a KV cache.
///
/// All prompts are prefilled in one pass; then every decode step runs one row per unfinished sequence through
/// ``Qwen2Model/forwardCached(tokens:segments:cache:)``, so each token costs O(context) attention plus O(params)
/// matmul work instead of a pass over the whole prefix.
public struct Sampler: Sendable {
    /// The model to sample from.
    public let model: Qwen2Model

    /// Creates a sampler.
    public init(model: Qwen2Model) { self.model = model }

    /// Generates one completion per prompt.
    /// - Parameters:
    ///   - prompts: token ids, each non-empty.
    ///   - parameters: sampling settings.
    ///   - decode: turns completion tokens into text; needed only for ``SamplingParameters/stopStrings``.
    /// - Returns: completions in prompt order.
    /// - Throws: ``EngineError/invalidArgument(_:)`` for an empty prompt or a token outside the vocabulary.
    public func generate(
        prompts: [[Int32]], parameters: SamplingParameters, decode: (([Int32]) -> String)? = nil
    ) throws -> [Completion] {
        let V = model.config.vocabSize
        for (i, p) in prompts.enumerated() {
            guard !p.isEmpty else { throw EngineError.invalidArgument("prompt \(i) is empty") }
            guard p.allSatisfy({ $0 >= 0 && Int($0) < V }) else {
                throw EngineError.invalidArgument("prompt \(i) has a token outside the vocabulary of \(V)")
            }
        }
        if !parameters.stopStrings.isEmpty && decode == nil {
            throw EngineError.invalidArgument("stop strings need a decode function")
        }
        if let rowSeeds = parameters.rowSeeds, rowSeeds.count != prompts.count {
            throw EngineError.invalidArgument("rowSeeds has \(rowSeeds.count) seeds for \(prompts.count) prompts")
        }
        guard !prompts.isEmpty else { return [] }
        let capacity = (prompts.map(\.count).max() ?? 0) + parameters.maxNewTokens
        let cache = KVCache(config: model.config, slots: prompts.count, capacity: capacity)
        var rngs = prompts.indices.map { SplitMix64(seed: parameters.streamSeed($0)) }
        var results = prompts.map { _ in Completion(tokens: [], logprobs: [], finishReason: .length) }
        var lengths = prompts.map(\.count)
        var active = Array(prompts.indices)
        if parameters.maxNewTokens <= 0 { return results }

        var segments = prompts.enumerated().map { AttentionSegment(slot: $0.offset, start: 0, count: $0.element.count) }
        var input = prompts.flatMap { $0 }
        var scratch = [Float](repeating: 0, count: V)
        while !active.isEmpty {
            let logits = model.forwardCached(tokens: input, segments: segments, cache: cache)  // (active, V)
            var next: [Int] = []
            for (row, slot) in active.enumerated() {
                let (token, logprob) = sampleToken(logits.data + row * V, V: V, parameters: parameters,
                                                   rng: &rngs[slot], scratch: &scratch)
                results[slot].tokens.append(token)
                results[slot].logprobs.append(logprob)
                lengths[slot] += 1
                if parameters.stopTokens.contains(token) {
                    results[slot].finishReason = .stopToken(token)
                } else if let decode, let hit = parameters.stopStrings.first(where: decode(results[slot].tokens).contains) {
                    results[slot].finishReason = .stopString(hit)
                } else if results[slot].tokens.count < parameters.maxNewTokens {
                    next.append(slot)
                }
            }
            active = next
            input = active.map { results[$0].tokens.last! }
            segments = active.map { AttentionSegment(slot: $0, start: lengths[$0] - 1, count: 1) }
        }
        return results
    }
}

/// Draws one token from a row of logits and returns it with its log-probability under the sampling distribution.
///
/// - Parameters:
///   - logits: `(V)`.
///   - scratch: `(V)` workspace.
func sampleToken(
    _ logits: UnsafePointer<Float>, V: Int, parameters: SamplingParameters, rng: inout SplitMix64,
    scratch: inout [Float]
) -> (Int32, Float) {
    if parameters.temperature <= 0 {
        var best = 0
        for v in 1..<V where logits[v] > logits[best] { best = v }
        return (Int32(best), 0)
    }
    var maxLogit = -Float.infinity
    for v in 0..<V { maxLogit = max(maxLogit, logits[v]) }
    var sum: Float = 0
    let invT = 1 / parameters.temperature
    for v in 0..<V {
        scratch[v] = expf((logits[v] - maxLogit) * invT)
        sum += scratch[v]
    }
    for v in 0..<V { scratch[v] /= sum }  // (V) probabilities at this temperature
    var candidates: [Int]
    if parameters.topK > 0 || parameters.topP < 1 {
        // Sorting is only paid for when a filter is on.
        candidates = Array(0..<V).sorted { scratch[$0] > scratch[$1] }
        if parameters.topK > 0 { candidates = Array(candidates.prefix(parameters.topK)) }
        if parameters.topP < 1 {
            var cumulative: Float = 0
            var keep = 0
            for c in candidates {
                cumulative += scratch[c]
                keep += 1
                if cumulative >= parameters.topP { break }
            }
            candidates = Array(candidates.prefix(keep))
        }
    } else {
        candidates = Array(0..<V)
    }
    var mass: Float = 0
    for c in candidates { mass += scratch[c] }
    let u = rng.nextUnitFloat() * mass
    var cumulative: Float = 0
    var chosen = candidates.last!
    for c in candidates {
        cumulative += scratch[c]
        if u < cumulative { chosen = c; break }
    }
    return (Int32(chosen), logf(scratch[chosen] / mass))
}
