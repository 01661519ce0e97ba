#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// MARK: - Causal grouped-query attention

// Every (batch, head) pair is two GEMMs (scores, then weighted values) run by OpenBLAS on strided views of the
// (B, T, NH, HD) layout that the projections produce, so no transposes are materialised. Query head h reads
// key/value head h / (NH / NKV) (grouped-query attention). The full T×T score matrix is computed and the upper
// triangle is masked: wasted FLOPs, but one large GEMM is faster than T small ones at the sizes we train.

/// Causal self-attention forward over a batch of sequences that all start at position 0.
///
/// - Parameters:
///   - out: `(B, T, NH, HD)`, overwritten.
///   - att: `(B, NH, T, T)`, the attention probabilities (0 above the diagonal), kept for the backward pass.
///   - q: `(B, T, NH, HD)`, queries after the rotary embedding.
///   - k: `(B, T, NKV, HD)`, keys after the rotary embedding.
///   - v: `(B, T, NKV, HD)`.
///   - NKV: key/value heads; must divide `NH`.
public func attentionForward(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, B: Int, T: Int, NH: Int, NKV: Int, HD: Int
) {
    let group = NH / NKV
    let scale = 1 / Float(HD).squareRoot()
    let ldq = NH * HD, ldk = NKV * HD
    parallelChunks(B * NH, callsBLAS: true) { pairs in
        for pair in pairs {
            let b = pair / NH, h = pair % NH
            let kvh = h / group
            let qh = q + b * T * ldq + h * HD  // (T, HD) with row stride NH*HD
            let kh = k + b * T * ldk + kvh * HD  // (T, HD) with row stride NKV*HD
            let vh = v + b * T * ldk + kvh * HD  // (T, HD) with row stride NKV*HD
            let p = att + (b * NH + h) * T * T  // (T, T)
            sgemm(transA: false, transB: true, m: T, n: T, k: HD, alpha: scale, a: qh, lda: ldq, b: kh, ldb: ldk,
                  beta: 0, c: p, ldc: T)
            for t in 0..<T { causalSoftmaxRow(p + t * T, visible: t + 1, width: T) }
            sgemm(transA: false, transB: false, m: T, n: HD, k: T, alpha: 1, a: p, lda: T, b: vh, ldb: ldk,
                  beta: 0, c: out + b * T * ldq + h * HD, ldc: ldq)
        }
    }
}

/// Causal self-attention backward; `dq`, `dk` and `dv` accumulate.
///
/// - Parameters:
///   - dq: `(B, T, NH, HD)`.
///   - dk: `(B, T, NKV, HD)`.
///   - dv: `(B, T, NKV, HD)`.
///   - scratch: `(T, T)`, workspace, overwritten.
///   - dout: `(B, T, NH, HD)`.
///   - q, k, v, att: the forward inputs and probabilities, shaped as in ``attentionForward(out:att:q:k:v:B:T:NH:NKV:HD:)``.
public func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, q: UnsafePointer<Float>,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, att: UnsafePointer<Float>,
    B: Int, T: Int, NH: Int, NKV: Int, HD: Int
) {
    let group = NH / NKV
    let scale = 1 / Float(HD).squareRoot()
    let ldq = NH * HD, ldk = NKV * HD
    // Work is split by (batch, kv head): the query heads of one group all accumulate into the same dK and dV,
    // so they must run on the same thread.
    parallelChunks(B * NKV, callsBLAS: true) { units in
        // The first chunk uses the caller's scratch; other threads need their own (T, T) for dP / dS.
        let borrowed = units.lowerBound == 0
        let own = borrowed ? scratch : UnsafeMutablePointer<Float>.allocate(capacity: T * T)  // (T, T)
        defer { if !borrowed { own.deallocate() } }
        for unit in units {
            let b = unit / NKV, kvh = unit % NKV
            for h in (kvh * group)..<((kvh + 1) * group) {
                let qOffset = b * T * ldq + h * HD
                let kOffset = b * T * ldk + kvh * HD
                let p = att + (b * NH + h) * T * T  // (T, T)
                let doh = dout + qOffset  // (T, HD) stride NH*HD
                // dP = dO @ Vᵀ
                sgemm(transA: false, transB: true, m: T, n: T, k: HD, alpha: 1, a: doh, lda: ldq, b: v + kOffset,
                      ldb: ldk, beta: 0, c: own, ldc: T)
                // dV += Pᵀ @ dO
                sgemm(transA: true, transB: false, m: T, n: HD, k: T, alpha: 1, a: p, lda: T, b: doh, ldb: ldq,
                      beta: 1, c: dv + kOffset, ldc: ldk)
                // Softmax backward, row by row: dS = P ∘ (dP − rowsum(P ∘ dP)); zero above the diagonal.
                for t in 0..<T {
                    let pr = p + t * T, dr = own + t * T
                    var dot: Float = 0
                    for j in 0...t { dot += pr[j] * dr[j] }
                    for j in 0...t { dr[j] = pr[j] * (dr[j] - dot) }
                    for j in (t + 1)..<T { dr[j] = 0 }
                }
                // dQ += scale · dS @ K ; dK += scale · dSᵀ @ Q
                sgemm(transA: false, transB: false, m: T, n: HD, k: T, alpha: scale, a: own, lda: T, b: k + kOffset,
                      ldb: ldk, beta: 1, c: dq + qOffset, ldc: ldq)
                sgemm(transA: true, transB: false, m: T, n: HD, k: T, alpha: scale, a: own, lda: T, b: q + qOffset,
                      ldb: ldq, beta: 1, c: dk + kOffset, ldc: ldk)
            }
        }
    }
}

/// One contiguous run of query rows that belong to the same cached sequence.
public struct AttentionSegment: Sendable {
    /// Which sequence slot of the KV cache the rows read and write.
    public var slot: Int
    /// The absolute position of the first row; the rows have positions `start ..< start + count`.
    public var start: Int
    /// How many query rows (1 for a decode step, the prompt length for a prefill).
    public var count: Int

    /// Creates a segment.
    public init(slot: Int, start: Int, count: Int) {
        self.slot = slot
        self.start = start
        self.count = count
    }
}

/// Causal attention of new query rows against a KV cache that already holds their own keys and values.
///
/// Row `i` of a segment (absolute position `start + i`) attends to cached positions `0 ... start + i`. Used for
/// prefill (one segment of many rows) and for batched decoding (one row per sequence); there is no backward.
///
/// - Parameters:
///   - out: `(N, NH, HD)`, overwritten, with `N` the total rows of all segments in order.
///   - q: `(N, NH, HD)`, after the rotary embedding.
///   - kCache: `(slots, S, NKV, HD)`.
///   - vCache: `(slots, S, NKV, HD)`.
///   - segments: the row runs, in the order their rows appear in `q`.
///   - S: the cache's capacity in positions.
///   - scratch: `(maxRows · S)` floats at least, where `maxRows` is the longest segment.
public func attentionForwardCached(
    out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, kCache: UnsafePointer<Float>,
    vCache: UnsafePointer<Float>, segments: [AttentionSegment], S: Int, NH: Int, NKV: Int, HD: Int,
    scratch: UnsafeMutablePointer<Float>
) {
    let group = NH / NKV
    let scale = 1 / Float(HD).squareRoot()
    let ldq = NH * HD, ldk = NKV * HD
    var row0 = 0
    for seg in segments {
        let keys = seg.start + seg.count
        precondition(keys <= S, "sequence of \(keys) positions exceeds the KV cache capacity \(S)")
        for h in 0..<NH {
            let kvh = h / group
            let qh = q + row0 * ldq + h * HD  // (count, HD) stride NH*HD
            let kh = kCache + seg.slot * S * ldk + kvh * HD  // (keys, HD) stride NKV*HD
            let vh = vCache + seg.slot * S * ldk + kvh * HD  // (keys, HD) stride NKV*HD
            let p = scratch  // (count, keys)
            sgemm(transA: false, transB: true, m: seg.count, n: keys, k: HD, alpha: scale, a: qh, lda: ldq,
                  b: kh, ldb: ldk, beta: 0, c: p, ldc: keys)
            for i in 0..<seg.count { causalSoftmaxRow(p + i * keys, visible: seg.start + i + 1, width: keys) }
            sgemm(transA: false, transB: false, m: seg.count, n: HD, k: keys, alpha: 1, a: p, lda: keys, b: vh,
                  ldb: ldk, beta: 0, c: out + row0 * ldq + h * HD, ldc: ldq)
        }
        row0 += seg.count
    }
}

/// Softmax over the first `visible` entries of a row; the rest of the row (the future) is set to 0.
@inline(__always)
func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
    var maxValue = -Float.infinity
    for j in 0..<visible { maxValue = max(maxValue, row[j]) }
    var sum: Float = 0
    for j in 0..<visible {
        let e = expf(row[j] - maxValue)
        row[j] = e
        sum += e
    }
    let inv = 1 / sum
    for j in 0..<visible { row[j] *= inv }
    for j in visible..<width { row[j] = 0 }
}
