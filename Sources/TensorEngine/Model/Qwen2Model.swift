// MARK: - Qwen2 / Llama decoder

/// A Qwen2/Llama-family decoder with explicit forward and backward passes (llm.c style).
///
/// Per layer: `x += o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))` with `n1 = rmsnorm(x)`, then
/// `x += down_proj(silu(gate_proj(n2)) * up_proj(n2))` with `n2 = rmsnorm(x)`; a final RMSNorm and `lm_head`
/// (or the tied embedding) give the logits. Training batches are right-padded and start at position 0; padding
/// only has to be masked out of the loss, because causal attention never lets a real token see a later pad.
///
/// Not thread-safe: one model instance runs one pass at a time.
public final class Qwen2Model: @unchecked Sendable {
    /// The model's shape.
    public let config: Qwen2Config
    /// The kernels the model runs on.
    public let backend: any Backend
    /// All weights, in one allocation, with Hugging Face names.
    public let parameters: ParameterSet
    /// Gradients, same layout as ``parameters``; ``backward(dlogits:)`` accumulates into them.
    public let gradients: ParameterSet

    var rotary: RotaryTable
    private(set) var activations: Activations?

    /// Creates a model with all weights zero; load a checkpoint or call ``initializeRandom(seed:std:)``.
    /// - Throws: ``EngineError/unsupported(_:)`` if the configuration is inconsistent.
    public init(config: Qwen2Config, backend: any Backend = CPUBackend()) throws {
        try config.validate()
        self.config = config
        self.backend = backend
        self.parameters = ParameterSet(layout: Qwen2Model.layout(config), backend: backend)
        self.gradients = parameters.makeZeroedLike()
        self.rotary = RotaryTable(headDim: config.headDim, theta: config.ropeTheta, maxPositions: 256)
    }

    /// The Hugging Face tensor names and shapes of a configuration, in allocation order.
    public static func layout(_ c: Qwen2Config) -> [(name: String, shape: [Int])] {
        let C = c.hiddenSize, I = c.intermediateSize, HD = c.headDim
        var layout: [(name: String, shape: [Int])] = [("model.embed_tokens.weight", [c.vocabSize, C])]
        for l in 0..<c.numLayers {
            let p = "model.layers.\(l)."
            layout.append((p + "input_layernorm.weight", [C]))
            layout.append((p + "self_attn.q_proj.weight", [c.numHeads * HD, C]))
            if c.attentionBias { layout.append((p + "self_attn.q_proj.bias", [c.numHeads * HD])) }
            layout.append((p + "self_attn.k_proj.weight", [c.numKVHeads * HD, C]))
            if c.attentionBias { layout.append((p + "self_attn.k_proj.bias", [c.numKVHeads * HD])) }
            layout.append((p + "self_attn.v_proj.weight", [c.numKVHeads * HD, C]))
            if c.attentionBias { layout.append((p + "self_attn.v_proj.bias", [c.numKVHeads * HD])) }
            layout.append((p + "self_attn.o_proj.weight", [C, c.numHeads * HD]))
            layout.append((p + "post_attention_layernorm.weight", [C]))
            layout.append((p + "mlp.gate_proj.weight", [I, C]))
            layout.append((p + "mlp.up_proj.weight", [I, C]))
            layout.append((p + "mlp.down_proj.weight", [C, I]))
        }
        layout.append(("model.norm.weight", [C]))
        if !c.tieWordEmbeddings { layout.append(("lm_head.weight", [c.vocabSize, C])) }
        return layout
    }

    /// Fills the weights as HF `_init_weights` does: normal(0, std) for matrices, ones for norms, zeros for biases.
    /// - Parameters:
    ///   - seed: fixes every value.
    ///   - std: standard deviation of the matrices (HF `initializer_range`, 0.02).
    public func initializeRandom(seed: UInt64, std: Float = 0.02) {
        var rng = SplitMix64(seed: seed)
        for e in parameters.entries {
            let p = parameters.storage + e.offset
            if e.name.hasSuffix("layernorm.weight") || e.name == "model.norm.weight" {
                p.update(repeating: 1, count: e.count)
            } else if e.name.hasSuffix(".bias") {
                p.update(repeating: 0, count: e.count)
            } else {
                for i in 0..<e.count { p[i] = std * rng.nextGaussian() }
            }
        }
    }

    /// The number of parameters.
    public var parameterCount: Int { parameters.count }

    /// Sets every gradient to zero (gradients accumulate across backward calls).
    public func zeroGradients() { gradients.zero() }

    // MARK: Weights of one layer

    /// Pointers to one layer's tensors in a parameter set (the weights or their gradients).
    struct LayerTensors {
        let inputNorm, q, k, v, o, postNorm, gate, up, down: UnsafeMutablePointer<Float>
        let qBias, kBias, vBias: UnsafeMutablePointer<Float>?

        init(_ set: ParameterSet, layer l: Int, bias: Bool) {
            let p = "model.layers.\(l)."
            inputNorm = set.pointer(p + "input_layernorm.weight")
            q = set.pointer(p + "self_attn.q_proj.weight")
            k = set.pointer(p + "self_attn.k_proj.weight")
            v = set.pointer(p + "self_attn.v_proj.weight")
            o = set.pointer(p + "self_attn.o_proj.weight")
            postNorm = set.pointer(p + "post_attention_layernorm.weight")
            gate = set.pointer(p + "mlp.gate_proj.weight")
            up = set.pointer(p + "mlp.up_proj.weight")
            down = set.pointer(p + "mlp.down_proj.weight")
            qBias = bias ? set.pointer(p + "self_attn.q_proj.bias") : nil
            kBias = bias ? set.pointer(p + "self_attn.k_proj.bias") : nil
            vBias = bias ? set.pointer(p + "self_attn.v_proj.bias") : nil
        }
    }

    func lmHead(_ set: ParameterSet) -> UnsafeMutablePointer<Float> {
        set.pointer(config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight")
    }

    func ensureRotary(positions: Int) {
        guard positions > rotary.maxPositions else { return }
        var size = rotary.maxPositions
        while size < positions { size *= 2 }
        rotary = RotaryTable(headDim: config.headDim, theta: config.ropeTheta, maxPositions: size)
    }

    // MARK: Activations

    /// Everything the forward pass keeps for the backward pass, for one (B, T).
    final class Activations {
        let B: Int, T: Int
        var tokens: [Int32]  // (B, T)
        let positions: [Int32]  // (B, T)
        let residual: [Tensor]  // L+1 × (B, T, C): the stream entering each layer, then the final one
        let residualMid: [Tensor]  // L × (B, T, C): after the attention block
        let ln1, ln2: [Tensor]  // L × (B, T, C)
        let ln1Rstd, ln2Rstd: [Tensor]  // L × (B, T)
        let q: [Tensor]  // L × (B, T, NH, HD), after RoPE
        let k, v: [Tensor]  // L × (B, T, NKV, HD), k after RoPE
        let att: [Tensor]  // L × (B, NH, T, T)
        let attOut: [Tensor]  // L × (B, T, NH, HD)
        let gate, up, act: [Tensor]  // L × (B, T, I)
        let lnf: Tensor  // (B, T, C)
        let lnfRstd: Tensor  // (B, T)
        let logits: Tensor  // (B, T, V)
        let proj: Tensor  // (B, T, C), scratch for o_proj / down_proj outputs

        init(config c: Qwen2Config, B: Int, T: Int, tokens: [Int32]) {
            self.B = B
            self.T = T
            self.tokens = tokens
            self.positions = (0..<(B * T)).map { Int32($0 % T) }
            let N = B * T, C = c.hiddenSize, L = c.numLayers, HD = c.headDim
            func many(_ shape: [Int], _ n: Int = L) -> [Tensor] { (0..<n).map { _ in Tensor(shape: shape) } }
            residual = many([N, C], L + 1)
            residualMid = many([N, C])
            ln1 = many([N, C])
            ln2 = many([N, C])
            ln1Rstd = many([N])
            ln2Rstd = many([N])
            q = many([N, c.numHeads * HD])
            k = many([N, c.numKVHeads * HD])
            v = many([N, c.numKVHeads * HD])
            att = many([B, c.numHeads, T, T])
            attOut = many([N, c.numHeads * HD])
            gate = many([N, c.intermediateSize])
            up = many([N, c.intermediateSize])
            act = many([N, c.intermediateSize])
            lnf = Tensor(shape: [N, C])
            lnfRstd = Tensor(shape: [N])
            logits = Tensor(shape: [N, c.vocabSize])
            proj = Tensor(shape: [N, C])
        }
    }

    // MARK: Forward

    /// Runs the model over a right-padded batch and keeps what the backward pass needs.
    ///
    /// - Parameters:
    ///   - tokens: `(B, T)` token ids in `0..<vocabSize`, row-major.
    ///   - B: batch size.
    ///   - T: sequence length (every row starts at position 0).
    /// - Returns: the logits, `(B, T, V)`; valid until the next forward call.
    @discardableResult
    public func forward(tokens: [Int32], B: Int, T: Int) -> Tensor {
        precondition(tokens.count == B * T, "forward: \(tokens.count) tokens for B=\(B) T=\(T)")
        precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < config.vocabSize }, "forward: token id out of vocabulary")
        let c = config
        let N = B * T, C = c.hiddenSize, I = c.intermediateSize, NH = c.numHeads, NKV = c.numKVHeads, HD = c.headDim
        ensureRotary(positions: T)
        let acts: Activations
        if let a = activations, a.B == B, a.T == T {
            acts = a  // same shapes: reuse the buffers instead of reallocating every step
            acts.tokens = tokens
        } else {
            acts = Activations(config: c, B: B, T: T, tokens: tokens)
        }
        activations = acts
        let be = backend
        acts.tokens.withUnsafeBufferPointer { tok in
            be.embeddingForward(out: acts.residual[0].data, tokens: tok.baseAddress!,
                                weight: parameters.pointer("model.embed_tokens.weight"), N: N, C: C)
        }
        acts.positions.withUnsafeBufferPointer { posBuffer in
            let pos = posBuffer.baseAddress!
            for l in 0..<c.numLayers {
                let w = LayerTensors(parameters, layer: l, bias: c.attentionBias)
                let x = acts.residual[l].data  // (B, T, C)
                be.rmsNormForward(out: acts.ln1[l].data, rstd: acts.ln1Rstd[l].data, inp: x, weight: w.inputNorm,
                                  N: N, C: C, eps: c.rmsNormEps)
                be.matmulForward(out: acts.q[l].data, inp: acts.ln1[l].data, weight: w.q, bias: w.qBias,
                                 N: N, C: C, OC: NH * HD)
                be.matmulForward(out: acts.k[l].data, inp: acts.ln1[l].data, weight: w.k, bias: w.kBias,
                                 N: N, C: C, OC: NKV * HD)
                be.matmulForward(out: acts.v[l].data, inp: acts.ln1[l].data, weight: w.v, bias: w.vBias,
                                 N: N, C: C, OC: NKV * HD)
                be.rotaryForward(out: acts.q[l].data, inp: acts.q[l].data, positions: pos, table: rotary,
                                 N: N, NH: NH, HD: HD)
                be.rotaryForward(out: acts.k[l].data, inp: acts.k[l].data, positions: pos, table: rotary,
                                 N: N, NH: NKV, HD: HD)
                be.attentionForward(out: acts.attOut[l].data, att: acts.att[l].data, q: acts.q[l].data,
                                    k: acts.k[l].data, v: acts.v[l].data, B: B, T: T, NH: NH, NKV: NKV, HD: HD)
                be.matmulForward(out: acts.proj.data, inp: acts.attOut[l].data, weight: w.o, bias: nil,
                                 N: N, C: NH * HD, OC: C)
                be.residualForward(out: acts.residualMid[l].data, a: x, b: acts.proj.data, N: N * C)
                be.rmsNormForward(out: acts.ln2[l].data, rstd: acts.ln2Rstd[l].data, inp: acts.residualMid[l].data,
                                  weight: w.postNorm, N: N, C: C, eps: c.rmsNormEps)
                be.matmulForward(out: acts.gate[l].data, inp: acts.ln2[l].data, weight: w.gate, bias: nil,
                                 N: N, C: C, OC: I)
                be.matmulForward(out: acts.up[l].data, inp: acts.ln2[l].data, weight: w.up, bias: nil,
                                 N: N, C: C, OC: I)
                be.swigluForward(out: acts.act[l].data, gate: acts.gate[l].data, up: acts.up[l].data, N: N * I)
                be.matmulForward(out: acts.proj.data, inp: acts.act[l].data, weight: w.down, bias: nil,
                                 N: N, C: I, OC: C)
                be.residualForward(out: acts.residual[l + 1].data, a: acts.residualMid[l].data, b: acts.proj.data,
                                   N: N * C)
            }
        }
        be.rmsNormForward(out: acts.lnf.data, rstd: acts.lnfRstd.data, inp: acts.residual[c.numLayers].data,
                          weight: parameters.pointer("model.norm.weight"), N: N, C: C, eps: c.rmsNormEps)
        be.matmulForward(out: acts.logits.data, inp: acts.lnf.data, weight: lmHead(parameters), bias: nil,
                         N: N, C: C, OC: c.vocabSize)
        return acts.logits
    }

    // MARK: Backward

    /// Back-propagates a gradient of the logits of the last ``forward(tokens:B:T:)`` into ``gradients`` (accumulating).
    ///
    /// - Parameter dlogits: `(B, T, V)`, the gradient of the loss with respect to each logit.
    public func backward(dlogits: UnsafePointer<Float>) {
        guard let acts = activations else { preconditionFailure("backward called before forward") }
        let c = config, be = backend
        let B = acts.B, T = acts.T
        let N = B * T, C = c.hiddenSize, I = c.intermediateSize, NH = c.numHeads, NKV = c.numKVHeads, HD = c.headDim
        let g = gradients
        // Gradient scratch, reused layer by layer; the residual gradient flows through all of them.
        let dresidual = Tensor(shape: [N, C])  // (B, T, C)
        let dln = Tensor(shape: [N, C])  // (B, T, C)
        let dact = Tensor(shape: [N, I])  // (B, T, I)
        let dgate = Tensor(shape: [N, I])  // (B, T, I)
        let dup = Tensor(shape: [N, I])  // (B, T, I)
        let dattOut = Tensor(shape: [N, NH * HD])  // (B, T, NH, HD)
        let dq = Tensor(shape: [N, NH * HD])  // (B, T, NH, HD)
        let dk = Tensor(shape: [N, NKV * HD])  // (B, T, NKV, HD)
        let dv = Tensor(shape: [N, NKV * HD])  // (B, T, NKV, HD)
        let scratch = Tensor(shape: [T, T])  // (T, T)

        be.matmulBackward(dinp: dln.data, dweight: lmHead(g), dbias: nil, dout: dlogits, inp: acts.lnf.data,
                          weight: lmHead(parameters), N: N, C: C, OC: c.vocabSize)
        be.rmsNormBackward(dinp: dresidual.data, dweight: g.pointer("model.norm.weight"), dout: dln.data,
                           inp: acts.residual[c.numLayers].data, weight: parameters.pointer("model.norm.weight"),
                           rstd: acts.lnfRstd.data, N: N, C: C)
        acts.positions.withUnsafeBufferPointer { posBuffer in
            let pos = posBuffer.baseAddress!
            for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
                let w = LayerTensors(parameters, layer: l, bias: c.attentionBias)
                let dw = LayerTensors(g, layer: l, bias: c.attentionBias)
                // MLP block: dresidual is the gradient of residual[l+1] and, through the skip, of residualMid[l].
                dact.zero()
                be.matmulBackward(dinp: dact.data, dweight: dw.down, dbias: nil, dout: dresidual.data,
                                  inp: acts.act[l].data, weight: w.down, N: N, C: I, OC: C)
                dgate.zero()
                dup.zero()
                be.swigluBackward(dgate: dgate.data, dup: dup.data, dout: dact.data, gate: acts.gate[l].data,
                                  up: acts.up[l].data, N: N * I)
                dln.zero()
                be.matmulBackward(dinp: dln.data, dweight: dw.gate, dbias: nil, dout: dgate.data,
                                  inp: acts.ln2[l].data, weight: w.gate, N: N, C: C, OC: I)
                be.matmulBackward(dinp: dln.data, dweight: dw.up, dbias: nil, dout: dup.data,
                                  inp: acts.ln2[l].data, weight: w.up, N: N, C: C, OC: I)
                be.rmsNormBackward(dinp: dresidual.data, dweight: dw.postNorm, dout: dln.data,
                                   inp: acts.residualMid[l].data, weight: w.postNorm, rstd: acts.ln2Rstd[l].data,
                                   N: N, C: C)
                // Attention block: dresidual is now the gradient of residualMid[l].
                dattOut.zero()
                be.matmulBackward(dinp: dattOut.data, dweight: dw.o, dbias: nil, dout: dresidual.data,
                                  inp: acts.attOut[l].data, weight: w.o, N: N, C: NH * HD, OC: C)
                dq.zero()
                dk.zero()
                dv.zero()
                be.attentionBackward(dq: dq.data, dk: dk.data, dv: dv.data, scratch: scratch.data,
                                     dout: dattOut.data, q: acts.q[l].data, k: acts.k[l].data, v: acts.v[l].data,
                                     att: acts.att[l].data, B: B, T: T, NH: NH, NKV: NKV, HD: HD)
                be.rotaryBackward(dinp: dq.data, dout: dq.data, positions: pos, table: rotary, N: N, NH: NH, HD: HD)
                be.rotaryBackward(dinp: dk.data, dout: dk.data, positions: pos, table: rotary, N: N, NH: NKV, HD: HD)
                dln.zero()
                be.matmulBackward(dinp: dln.data, dweight: dw.q, dbias: dw.qBias, dout: dq.data,
                                  inp: acts.ln1[l].data, weight: w.q, N: N, C: C, OC: NH * HD)
                be.matmulBackward(dinp: dln.data, dweight: dw.k, dbias: dw.kBias, dout: dk.data,
                                  inp: acts.ln1[l].data, weight: w.k, N: N, C: C, OC: NKV * HD)
                be.matmulBackward(dinp: dln.data, dweight: dw.v, dbias: dw.vBias, dout: dv.data,
                                  inp: acts.ln1[l].data, weight: w.v, N: N, C: C, OC: NKV * HD)
                be.rmsNormBackward(dinp: dresidual.data, dweight: dw.inputNorm, dout: dln.data,
                                   inp: acts.residual[l].data, weight: w.inputNorm, rstd: acts.ln1Rstd[l].data,
                                   N: N, C: C)
            }
        }
        acts.tokens.withUnsafeBufferPointer { tok in
            be.embeddingBackward(dweight: g.pointer("model.embed_tokens.weight"), dout: dresidual.data,
                                 tokens: tok.baseAddress!, N: N, C: C)
        }
    }
}
