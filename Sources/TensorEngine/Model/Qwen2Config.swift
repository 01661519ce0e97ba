import Foundation

// MARK: - Configuration

/// The shape of a Qwen2/Llama-family decoder, read from (and written as) a Hugging Face `config.json`.
public struct Qwen2Config: Codable, Sendable, Equatable {
    /// Residual stream width `C` (HF `hidden_size`).
    public var hiddenSize: Int
    /// MLP width `I` (HF `intermediate_size`).
    public var intermediateSize: Int
    /// Decoder layers `L` (HF `num_hidden_layers`).
    public var numLayers: Int
    /// Query heads `NH` (HF `num_attention_heads`).
    public var numHeads: Int
    /// Key/value heads `NKV` (HF `num_key_value_heads`); divides `numHeads`.
    public var numKVHeads: Int
    /// Vocabulary size `V` (HF `vocab_size`).
    public var vocabSize: Int
    /// RoPE base (HF `rope_theta`).
    public var ropeTheta: Float
    /// RMSNorm epsilon (HF `rms_norm_eps`).
    public var rmsNormEps: Float
    /// Whether q/k/v projections have a bias: true for Qwen2, HF `attention_bias` for Llama.
    public var attentionBias: Bool
    /// Whether `lm_head` shares the embedding matrix (HF `tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// The longest context the model was trained for (HF `max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// HF `model_type`, such as `"qwen2"` or `"llama"`.
    public var modelType: String

    /// Per-head dimension `HD`.
    public var headDim: Int { hiddenSize / numHeads }

    /// Creates a configuration; defaults follow Qwen2 (`rope_theta` 1e6, eps 1e-6, q/k/v bias).
    public init(
        hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int, numKVHeads: Int, vocabSize: Int,
        ropeTheta: Float = 1_000_000, rmsNormEps: Float = 1e-6, attentionBias: Bool = true,
        tieWordEmbeddings: Bool = false, maxPositionEmbeddings: Int = 2048, modelType: String = "qwen2"
    ) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.vocabSize = vocabSize
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.attentionBias = attentionBias
        self.tieWordEmbeddings = tieWordEmbeddings
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.modelType = modelType
    }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numLayers = "num_hidden_layers"
        case numHeads = "num_attention_heads"
        case numKVHeads = "num_key_value_heads"
        case vocabSize = "vocab_size"
        case ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps"
        case attentionBias = "attention_bias"
        case tieWordEmbeddings = "tie_word_embeddings"
        case maxPositionEmbeddings = "max_position_embeddings"
        case modelType = "model_type"
        case headDim = "head_dim"
        case architectures
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case mlpBias = "mlp_bias"
        case useSlidingWindow = "use_sliding_window"
    }

    /// transformers ≥ 5 nests the RoPE base as `rope_parameters.rope_theta`; older configs have `rope_scaling`.
    struct RopeParameters: Decodable {
        var ropeTheta: Float?
        var ropeType: String?
        var type: String?
        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta"
            case ropeType = "rope_type"
            case type
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        numKVHeads = try c.decodeIfPresent(Int.self, forKey: .numKVHeads) ?? numHeads
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        let ropeParameters = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? ropeParameters?.ropeTheta ?? 10_000
        for rope in [ropeParameters, try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)] {
            if let kind = rope?.ropeType ?? rope?.type, kind != "default" {
                throw EngineError.unsupported("RoPE scaling type \(kind); only the default rotary embedding is implemented")
            }
        }
        if try c.decodeIfPresent(Bool.self, forKey: .mlpBias) == true {
            throw EngineError.unsupported("mlp_bias true; the engine's MLP has no biases (as in Qwen2 and Llama)")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) == true {
            throw EngineError.unsupported("use_sliding_window true; only full causal attention is implemented")
        }
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "qwen2"
        // Qwen2 always has q/k/v bias and its config has no flag for it; Llama says so in `attention_bias`.
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? (modelType == "qwen2")
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        if let headDim = try c.decodeIfPresent(Int.self, forKey: .headDim), headDim != hiddenSize / numHeads {
            throw EngineError.unsupported(
                "head_dim \(headDim) differs from hidden_size / num_attention_heads; such models are not supported")
        }
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numLayers, forKey: .numLayers)
        try c.encode(numHeads, forKey: .numHeads)
        try c.encode(numKVHeads, forKey: .numKVHeads)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(modelType, forKey: .modelType)
        try c.encode([modelType == "llama" ? "LlamaForCausalLM" : "Qwen2ForCausalLM"], forKey: .architectures)
    }

    /// Reads a Hugging Face `config.json`.
    /// - Throws: ``EngineError`` if the file is missing, malformed or describes an unsupported shape.
    public static func load(from url: URL) throws -> Qwen2Config {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError.io("cannot read model config \(url.path): \(error)")
        }
        do { return try JSONDecoder().decode(Qwen2Config.self, from: data) } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.format("\(url.path) is not a Qwen2/Llama config.json: \(error)")
        }
    }

    /// Checks that the sizes fit together.
    /// - Throws: ``EngineError/unsupported(_:)`` naming the offending fields.
    public func validate() throws {
        guard hiddenSize % numHeads == 0 else {
            throw EngineError.unsupported("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numHeads)")
        }
        guard numHeads % numKVHeads == 0 else {
            throw EngineError.unsupported("num_attention_heads \(numHeads) is not a multiple of num_key_value_heads \(numKVHeads)")
        }
        guard headDim % 2 == 0 else { throw EngineError.unsupported("head dimension \(headDim) must be even for RoPE") }
    }
}

// MARK: - Errors

/// What went wrong in the engine, with a message that names the file or value and what to do.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read or written.
    case io(String)
    /// A file was read but its contents are not what was expected.
    case format(String)
    /// The input is valid but describes something the engine does not implement.
    case unsupported(String)
    /// An argument is out of range or inconsistent.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .io(let m): "I/O error: \(m)"
        case .format(let m): "format error: \(m)"
        case .unsupported(let m): "unsupported: \(m)"
        case .invalidArgument(let m): "invalid argument: \(m)"
        }
    }
}

// MARK: - Cost model

extension Qwen2Config {
    /// Floating-point operations (2 per multiply-add) of the matmuls in one forward pass over `B` sequences of `T`
    /// tokens: the projections, the MLP, the LM head, and attention's two GEMMs over the full T×T square (which is
    /// what the kernels compute; half of it is masked). A training step (forward + backward) costs three times this.
    public func forwardFLOPs(B: Int, T: Int) -> Double {
        let C = Double(hiddenSize), I = Double(intermediateSize), HD = Double(headDim)
        let q = Double(numHeads) * HD, kv = Double(numKVHeads) * HD
        let perTokenPerLayer = 2 * (C * q + 2 * C * kv + q * C + 3 * C * I)
        let perTokenHead = 2 * C * Double(vocabSize)
        let attentionPerSequence = Double(numLayers) * Double(numHeads) * 2 * (2 * Double(T) * Double(T) * HD)
        return Double(B * T) * (Double(numLayers) * perTokenPerLayer + perTokenHead) + Double(B) * attentionPerSequence
    }
}
