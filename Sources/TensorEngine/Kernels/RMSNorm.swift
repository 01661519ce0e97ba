// MARK: - RMSNorm

/// RMSNorm forward as Qwen2/Llama define it: `out = inp / sqrt(mean(inp²) + eps) * weight`.
///
/// - Parameters:
///   - out: `(N, C)`, overwritten.
///   - rstd: `(N)`, the reciprocal RMS of each row, kept for the backward pass.
///   - inp: `(N, C)`.
///   - weight: `(C)`.
///   - eps: added to the mean square before the square root (HF `rms_norm_eps`).
public func rmsNormForward(
    out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float
) {
    for n in 0..<N {
        let x = inp + n * C  // (C)
        let o = out + n * C  // (C)
        var sumSquares: Float = 0
        for c in 0..<C { sumSquares += x[c] * x[c] }
        let r = 1 / (sumSquares / Float(C) + eps).squareRoot()
        rstd[n] = r
        for c in 0..<C { o[c] = x[c] * r * weight[c] }
    }
}

/// RMSNorm backward; `dinp` and `dweight` accumulate.
///
/// With `xhat = x * rstd`: `dweight += dout * xhat` and
/// `dinp += rstd * (dout * w - xhat * mean(dout * w * xhat))`.
///
/// - Parameters:
///   - dinp: `(N, C)`.
///   - dweight: `(C)`.
///   - dout: `(N, C)`.
///   - inp: `(N, C)`, the forward input.
///   - weight: `(C)`.
///   - rstd: `(N)`, from the forward pass.
public func rmsNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N {
        let x = inp + n * C  // (C)
        let d = dout + n * C  // (C)
        let dx = dinp + n * C  // (C)
        let r = rstd[n]
        var dot: Float = 0  // sum over c of (dout * w) * xhat
        for c in 0..<C {
            let xhat = x[c] * r
            dweight[c] += d[c] * xhat
            dot += d[c] * weight[c] * xhat
        }
        let meanDot = dot / Float(C)
        for c in 0..<C {
            let xhat = x[c] * r
            dx[c] += r * (d[c] * weight[c] - xhat * meanDot)
        }
    }
}
