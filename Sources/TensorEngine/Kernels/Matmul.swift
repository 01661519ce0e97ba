import COpenBLAS

// MARK: - Matmul (linear layer)

/// A thin wrapper over `cblas_sgemm` in row-major order: `c = alpha * op(a) @ op(b) + beta * c`.
///
/// - Parameters:
///   - transA: whether `a` is read transposed.
///   - transB: whether `b` is read transposed.
///   - m: rows of `op(a)` and `c`.
///   - n: columns of `op(b)` and `c`.
///   - k: columns of `op(a)`, rows of `op(b)`.
///   - lda/ldb/ldc: the row strides (in elements) of the stored matrices.
@inline(__always)
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Linear layer forward with the PyTorch weight layout: `out = inp @ weightᵀ + bias`.
///
/// - Parameters:
///   - out: `(N, OC)`, overwritten.
///   - inp: `(N, C)`.
///   - weight: `(OC, C)`, as `nn.Linear` stores it.
///   - bias: `(OC)`, or nil for a layer without bias.
public func matmulForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
) {
    sgemm(transA: false, transB: true, m: N, n: OC, k: C, alpha: 1, a: inp, lda: C, b: weight, ldb: C,
          beta: 0, c: out, ldc: OC)
    guard let bias else { return }
    for row in 0..<N {
        let o = out + row * OC  // (OC)
        for j in 0..<OC { o[j] += bias[j] }
    }
}

/// Linear layer backward; every gradient accumulates (`+=`), so callers zero them once per step.
///
/// - Parameters:
///   - dinp: `(N, C)`, or nil when the input needs no gradient (saves one GEMM).
///   - dweight: `(OC, C)`.
///   - dbias: `(OC)`, or nil for a layer without bias.
///   - dout: `(N, OC)`, the gradient of the output.
///   - inp: `(N, C)`, the forward input.
///   - weight: `(OC, C)`.
public func matmulBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
) {
    if let dinp {
        // (N, C) += (N, OC) @ (OC, C)
        sgemm(transA: false, transB: false, m: N, n: C, k: OC, alpha: 1, a: dout, lda: OC, b: weight, ldb: C,
              beta: 1, c: dinp, ldc: C)
    }
    // (OC, C) += (N, OC)ᵀ @ (N, C)
    sgemm(transA: true, transB: false, m: OC, n: C, k: N, alpha: 1, a: dout, lda: OC, b: inp, ldb: C,
          beta: 1, c: dweight, ldc: C)
    guard let dbias else { return }
    for row in 0..<N {
        let d = dout + row * OC  // (OC)
        for j in 0..<OC { dbias[j] += d[j] }
    }
}
