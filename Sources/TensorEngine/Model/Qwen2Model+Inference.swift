// MARK: - KV-cached inference

/// Keys and values of every layer for a fixed number of sequence slots, so each new token costs one row of work
/// instead of a pass over its whole prefix.
public final class KVCache: @unchecked Sendable {
    /// Sequence slots (the largest batch the cache serves).
    public let slots: Int
    /// Positions per slot.
    public let capacity: Int
    let keys: [Tensor]  // L × (slots, S, NKV, HD), after RoPE
    let values: [Tensor]  // L × (slots, S, NKV, HD)

    /// Allocates a zeroed cache for a model's shape.
    /// - Parameters:
    ///   - config: the model's configuration.
    ///   - slots: how many sequences it holds at once.
    ///   - capacity: the longest sequence (prompt plus completion) in positions.
    public init(config: Qwen2Config, slots: Int, capacity: Int) {
        self.slots = slots
        self.capacity = capacity
        let shape = [slots, capacity, config.numKVHeads, config.headDim]
        keys = (0..<config.numLayers).map { _ in Tensor(shape: shape) }
        values = (0..<config.numLayers).map { _ in Tensor(shape: shape) }
    }
}

extension Qwen2Model {
    /// Runs new tokens of one or more cached sequences and returns the logits of each segment's last row.
    ///
    /// Each segment's rows are written into the cache at `start ..< start + count` of its slot and attend to
    /// everything the slot holds before them, so a prefill is one segment of the whole prompt and a decode step is
    /// one single-row segment per sequence. Earlier positions of a slot must already be in the cache.
    ///
    /// - Parameters:
    ///   - tokens: `(N)` the new tokens of all segments, in segment order.
    ///   - segments: the runs of rows; their `count`s sum to `N`.
    ///   - cache: read and updated.
    /// - Returns: `(segments.count, V)` logits.
    public func forwardCached(tokens: [Int32], segments: [AttentionSegment], cache: KVCache) -> Tensor {
        let c = config, be = backend
        let N = tokens.count, C = c.hiddenSize, I = c.intermediateSize
        let NH = c.numHeads, NKV = c.numKVHeads, HD = c.headDim, S = cache.capacity
        precondition(segments.reduce(0) { $0 + $1.count } == N, "forwardCached: segment rows do not sum to \(N)")
        var positions = [Int32]()  // (N)
        positions.reserveCapacity(N)
        for seg in segments {
            precondition(seg.slot < cache.slots && seg.start + seg.count <= S, "forwardCached: segment outside the cache")
            for i in 0..<seg.count { positions.append(Int32(seg.start + i)) }
        }
        ensureRotary(positions: segments.map { $0.start + $0.count }.max() ?? 1)
        let maxRows = segments.map(\.count).max() ?? 1
        let x = Tensor(shape: [N, C])  // (N, C) residual stream
        let ln = Tensor(shape: [N, C])  // (N, C)
        let rstd = Tensor(shape: [N])  // (N)
        let q = Tensor(shape: [N, NH * HD])  // (N, NH, HD)
        let k = Tensor(shape: [N, NKV * HD])  // (N, NKV, HD)
        let v = Tensor(shape: [N, NKV * HD])  // (N, NKV, HD)
        let attOut = Tensor(shape: [N, NH * HD])  // (N, NH, HD)
        let proj = Tensor(shape: [N, C])  // (N, C)
        let gate = Tensor(shape: [N, I]), up = Tensor(shape: [N, I])  // (N, I)
        let scratch = Tensor(shape: [maxRows * S])  // (maxRows, S) attention scores of one head
        tokens.withUnsafeBufferPointer { tok in
            be.embeddingForward(out: x.data, tokens: tok.baseAddress!,
                                weight: parameters.pointer("model.embed_tokens.weight"), N: N, C: C)
        }
        let rowKV = NKV * HD
        positions.withUnsafeBufferPointer { posBuffer in
            let pos = posBuffer.baseAddress!
            for l in 0..<c.numLayers {
                let w = LayerTensors(parameters, layer: l, bias: c.attentionBias)
                be.rmsNormForward(out: ln.data, rstd: rstd.data, inp: x.data, weight: w.inputNorm, N: N, C: C,
                                  eps: c.rmsNormEps)
                be.matmulForward(out: q.data, inp: ln.data, weight: w.q, bias: w.qBias, N: N, C: C, OC: NH * HD)
                be.matmulForward(out: k.data, inp: ln.data, weight: w.k, bias: w.kBias, N: N, C: C, OC: rowKV)
                be.matmulForward(out: v.data, inp: ln.data, weight: w.v, bias: w.vBias, N: N, C: C, OC: rowKV)
                be.rotaryForward(out: q.data, inp: q.data, positions: pos, table: rotary, N: N, NH: NH, HD: HD)
                be.rotaryForward(out: k.data, inp: k.data, positions: pos, table: rotary, N: N, NH: NKV, HD: HD)
                var row = 0
                for seg in segments {
                    let dst = (seg.slot * S + seg.start) * rowKV
                    (cache.keys[l].data + dst).update(from: k.data + row * rowKV, count: seg.count * rowKV)
                    (cache.values[l].data + dst).update(from: v.data + row * rowKV, count: seg.count * rowKV)
                    row += seg.count
                }
                be.attentionForwardCached(out: attOut.data, q: q.data, kCache: cache.keys[l].data,
                                          vCache: cache.values[l].data, segments: segments, S: S, NH: NH, NKV: NKV,
                                          HD: HD, scratch: scratch.data)
                be.matmulForward(out: proj.data, inp: attOut.data, weight: w.o, bias: nil, N: N, C: NH * HD, OC: C)
                be.accumulate(x.data, proj.data, N: N * C)
                be.rmsNormForward(out: ln.data, rstd: rstd.data, inp: x.data, weight: w.postNorm, N: N, C: C,
                                  eps: c.rmsNormEps)
                be.matmulForward(out: gate.data, inp: ln.data, weight: w.gate, bias: nil, N: N, C: C, OC: I)
                be.matmulForward(out: up.data, inp: ln.data, weight: w.up, bias: nil, N: N, C: C, OC: I)
                be.swigluForward(out: gate.data, gate: gate.data, up: up.data, N: N * I)
                be.matmulForward(out: proj.data, inp: gate.data, weight: w.down, bias: nil, N: N, C: I, OC: C)
                be.accumulate(x.data, proj.data, N: N * C)
            }
        }
        // Only the last row of each segment needs logits: the lm_head is the largest matmul at small sizes.
        let last = Tensor(shape: [segments.count, C])  // (segments, C)
        var row = 0
        for (i, seg) in segments.enumerated() {
            row += seg.count
            (last.data + i * C).update(from: x.data + (row - 1) * C, count: C)
        }
        let lastNorm = Tensor(shape: [segments.count, C])  // (segments, C)
        let lastRstd = Tensor(shape: [segments.count])
        be.rmsNormForward(out: lastNorm.data, rstd: lastRstd.data, inp: last.data,
                          weight: parameters.pointer("model.norm.weight"), N: segments.count, C: C, eps: c.rmsNormEps)
        let logits = Tensor(shape: [segments.count, c.vocabSize])  // (segments, V)
        be.matmulForward(out: logits.data, inp: lastNorm.data, weight: lmHead(parameters), bias: nil,
                         N: segments.count, C: C, OC: c.vocabSize)
        return logits
    }
}
