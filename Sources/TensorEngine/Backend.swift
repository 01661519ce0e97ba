// MARK: - Backend seam

/// The compute operations the model is written against.
///
/// Model code never calls a kernel or BLAS directly: it holds an `any Backend` and calls these methods, so a CUDA
/// backend can be added later by implementing this protocol (buffers from ``allocate(_:)`` would then be managed
/// memory that both host and device can address, which keeps the pointer-based signatures unchanged). Every method
/// mirrors the free kernel function of the same name; see those for shapes. Backward methods accumulate into their
/// `d`-outputs, except ``rotaryBackward(dinp:dout:positions:table:N:NH:HD:)`` which overwrites (see there).
public protocol Backend: Sendable {
    /// A short name for logs and benchmarks, such as `"cpu-openblas"`.
    var name: String { get }

    /// Allocates `count` zeroed floats that the backend's kernels can read and write.
    func allocate(_ count: Int) -> UnsafeMutablePointer<Float>
    /// Releases memory from ``allocate(_:)``.
    func deallocate(_ pointer: UnsafeMutablePointer<Float>)

    func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, weight: UnsafePointer<Float>, N: Int, C: Int)
    func embeddingBackward(
        dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, N: Int, C: Int)
    func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float)
    func rmsNormBackward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int)
    func matmulForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int)
    func matmulBackward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int)
    func rotaryForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
        table: RotaryTable, N: Int, NH: Int, HD: Int)
    func rotaryBackward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
        table: RotaryTable, N: Int, NH: Int, HD: Int)
    func attentionForward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, B: Int, T: Int, NH: Int, NKV: Int, HD: Int)
    func attentionBackward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, q: UnsafePointer<Float>,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, att: UnsafePointer<Float>,
        B: Int, T: Int, NH: Int, NKV: Int, HD: Int)
    func attentionForwardCached(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, kCache: UnsafePointer<Float>,
        vCache: UnsafePointer<Float>, segments: [AttentionSegment], S: Int, NH: Int, NKV: Int, HD: Int,
        scratch: UnsafeMutablePointer<Float>)
    func swigluForward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int)
    func swigluBackward(
        dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int)
    func residualForward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, N: Int)
    func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, N: Int)
    func logSoftmaxGatherForward(
        logprobs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int)
    func logSoftmaxGatherBackward(
        dlogits: UnsafeMutablePointer<Float>, dlogprobs: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        lse: UnsafePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int)
}

/// The CPU backend: float32 kernels in Swift, matmuls in OpenBLAS `sgemm`.
public struct CPUBackend: Backend {
    /// `"cpu-openblas"`.
    public var name: String { "cpu-openblas" }

    /// Creates the backend; it has no state.
    public init() {}

    public func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }
    public func deallocate(_ pointer: UnsafeMutablePointer<Float>) { pointer.deallocate() }

    public func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, weight: UnsafePointer<Float>, N: Int, C: Int
    ) { TensorEngine.embeddingForward(out: out, tokens: tokens, weight: weight, N: N, C: C) }
    public func embeddingBackward(
        dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, N: Int, C: Int
    ) { TensorEngine.embeddingBackward(dweight: dweight, dout: dout, tokens: tokens, N: N, C: C) }
    public func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float
    ) { TensorEngine.rmsNormForward(out: out, rstd: rstd, inp: inp, weight: weight, N: N, C: C, eps: eps) }
    public func rmsNormBackward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
    ) {
        TensorEngine.rmsNormBackward(
            dinp: dinp, dweight: dweight, dout: dout, inp: inp, weight: weight, rstd: rstd, N: N, C: C)
    }
    public func matmulForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
    ) { TensorEngine.matmulForward(out: out, inp: inp, weight: weight, bias: bias, N: N, C: C, OC: OC) }
    public func matmulBackward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
    ) {
        TensorEngine.matmulBackward(
            dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight, N: N, C: C, OC: OC)
    }
    public func rotaryForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
        table: RotaryTable, N: Int, NH: Int, HD: Int
    ) { TensorEngine.rotaryForward(out: out, inp: inp, positions: positions, table: table, N: N, NH: NH, HD: HD) }
    public func rotaryBackward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
        table: RotaryTable, N: Int, NH: Int, HD: Int
    ) { TensorEngine.rotaryBackward(dinp: dinp, dout: dout, positions: positions, table: table, N: N, NH: NH, HD: HD) }
    public func attentionForward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, B: Int, T: Int, NH: Int, NKV: Int, HD: Int
    ) { TensorEngine.attentionForward(out: out, att: att, q: q, k: k, v: v, B: B, T: T, NH: NH, NKV: NKV, HD: HD) }
    public func attentionBackward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, q: UnsafePointer<Float>,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, att: UnsafePointer<Float>,
        B: Int, T: Int, NH: Int, NKV: Int, HD: Int
    ) {
        TensorEngine.attentionBackward(
            dq: dq, dk: dk, dv: dv, scratch: scratch, dout: dout, q: q, k: k, v: v, att: att,
            B: B, T: T, NH: NH, NKV: NKV, HD: HD)
    }
    public func attentionForwardCached(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, kCache: UnsafePointer<Float>,
        vCache: UnsafePointer<Float>, segments: [AttentionSegment], S: Int, NH: Int, NKV: Int, HD: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        TensorEngine.attentionForwardCached(
            out: out, q: q, kCache: kCache, vCache: vCache, segments: segments, S: S, NH: NH, NKV: NKV, HD: HD,
            scratch: scratch)
    }
    public func swigluForward(
        out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int
    ) { TensorEngine.swigluForward(out: out, gate: gate, up: up, N: N) }
    public func swigluBackward(
        dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int
    ) { TensorEngine.swigluBackward(dgate: dgate, dup: dup, dout: dout, gate: gate, up: up, N: N) }
    public func residualForward(
        out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, N: Int
    ) { TensorEngine.residualForward(out: out, a: a, b: b, N: N) }
    public func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, N: Int) {
        TensorEngine.accumulate(dst, src, N: N)
    }
    public func logSoftmaxGatherForward(
        logprobs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
    ) {
        TensorEngine.logSoftmaxGatherForward(
            logprobs: logprobs, lse: lse, logits: logits, targets: targets, mask: mask, N: N, V: V)
    }
    public func logSoftmaxGatherBackward(
        dlogits: UnsafeMutablePointer<Float>, dlogprobs: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        lse: UnsafePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
    ) {
        TensorEngine.logSoftmaxGatherBackward(
            dlogits: dlogits, dlogprobs: dlogprobs, logits: logits, lse: lse, targets: targets, mask: mask, N: N, V: V)
    }
}
