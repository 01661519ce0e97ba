#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// MARK: - SwiGLU

/// The gated activation of the Qwen2/Llama MLP: `out = silu(gate) * up`, with `silu(x) = x * sigmoid(x)`.
///
/// - Parameters:
///   - out: `(N)`, overwritten.
///   - gate: `(N)`, the `gate_proj` output.
///   - up: `(N)`, the `up_proj` output.
public func swigluForward(
    out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int
) {
    parallelChunks(N, minimumPerChunk: 1 << 15) { range in
        for i in range {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}

/// SwiGLU backward; `dgate` and `dup` accumulate.
///
/// `d silu(g) / dg = s (1 + g (1 - s))` with `s = sigmoid(g)`.
///
/// - Parameters:
///   - dgate: `(N)`.
///   - dup: `(N)`.
///   - dout: `(N)`.
///   - gate: `(N)`, the forward input.
///   - up: `(N)`, the forward input.
public func swigluBackward(
    dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    gate: UnsafePointer<Float>, up: UnsafePointer<Float>, N: Int
) {
    parallelChunks(N, minimumPerChunk: 1 << 15) { range in
        for i in range {
            let g = gate[i]
            let s = 1 / (1 + expf(-g))
            let silu = g * s
            dup[i] += dout[i] * silu
            dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s))
        }
    }
}
