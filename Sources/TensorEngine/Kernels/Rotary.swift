#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// MARK: - Rotary position embeddings

/// Precomputed cosines and sines for rotary embeddings in the Hugging Face "rotate half" layout.
///
/// HF Qwen2/Llama pair dimension `i` with `i + HD/2` (not adjacent pairs as in the RoPE paper), with inverse
/// frequency `theta^(-2i/HD)`. The angles are computed in float32 to match the reference bit for bit as far as
/// possible.
public struct RotaryTable: Sendable {
    /// Head dimension; must be even.
    public let headDim: Int
    /// The largest position plus one that the table covers.
    public let maxPositions: Int
    /// `(maxPositions, headDim / 2)`
    public let cos: [Float]
    /// `(maxPositions, headDim / 2)`
    public let sin: [Float]

    /// Builds the table.
    /// - Parameters:
    ///   - headDim: the per-head dimension (even).
    ///   - theta: the RoPE base (HF `rope_theta`).
    ///   - maxPositions: how many positions to precompute.
    public init(headDim: Int, theta: Float, maxPositions: Int) {
        precondition(headDim % 2 == 0, "rotary embeddings need an even head dimension, got \(headDim)")
        self.headDim = headDim
        self.maxPositions = maxPositions
        let half = headDim / 2
        var cosTable = [Float](repeating: 0, count: maxPositions * half)
        var sinTable = [Float](repeating: 0, count: maxPositions * half)
        for i in 0..<half {
            let invFreq = 1 / powf(theta, Float(2 * i) / Float(headDim))
            for p in 0..<maxPositions {
                let angle = Float(p) * invFreq
                cosTable[p * half + i] = cosf(angle)
                sinTable[p * half + i] = sinf(angle)
            }
        }
        self.cos = cosTable
        self.sin = sinTable
    }
}

/// Rotates each head vector by its position's angles: for `i < HD/2`,
/// `out[i] = x[i] cos - x[i + HD/2] sin`, `out[i + HD/2] = x[i + HD/2] cos + x[i] sin`.
///
/// - Parameters:
///   - out: `(N, NH, HD)`, overwritten; may alias `inp`.
///   - inp: `(N, NH, HD)`.
///   - positions: `(N)`, the absolute position of each row, below `table.maxPositions`.
///   - table: the precomputed angles.
public func rotaryForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
    table: RotaryTable, N: Int, NH: Int, HD: Int
) {
    rotate(out: out, inp: inp, positions: positions, table: table, N: N, NH: NH, HD: HD, sign: 1)
}

/// Rotary backward. The rotation is orthogonal, so the gradient is the inverse rotation of `dout`.
///
/// Unlike the other backward kernels this one overwrites `dinp` (it may alias `dout`): rotation is applied in
/// place to the gradient coming out of attention, so there is nothing to accumulate into.
///
/// - Parameters:
///   - dinp: `(N, NH, HD)`, overwritten.
///   - dout: `(N, NH, HD)`.
///   - positions: `(N)`.
public func rotaryBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
    table: RotaryTable, N: Int, NH: Int, HD: Int
) {
    rotate(out: dinp, inp: dout, positions: positions, table: table, N: N, NH: NH, HD: HD, sign: -1)
}

@inline(__always)
private func rotate(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>,
    table: RotaryTable, N: Int, NH: Int, HD: Int, sign: Float
) {
    let half = HD / 2
    table.cos.withUnsafeBufferPointer { cosTable in
        table.sin.withUnsafeBufferPointer { sinTable in
            for n in 0..<N {
                let p = Int(positions[n])
                precondition(p >= 0 && p < table.maxPositions, "position \(p) is outside the rotary table")
                let cs = cosTable.baseAddress! + p * half  // (HD/2)
                let sn = sinTable.baseAddress! + p * half  // (HD/2)
                for h in 0..<NH {
                    let x = inp + (n * NH + h) * HD  // (HD)
                    let o = out + (n * NH + h) * HD  // (HD)
                    for i in 0..<half {
                        let x1 = x[i], x2 = x[i + half]
                        let s = sign * sn[i]
                        o[i] = x1 * cs[i] - x2 * s
                        o[i + half] = x2 * cs[i] + x1 * s
                    }
                }
            }
        }
    }
}
