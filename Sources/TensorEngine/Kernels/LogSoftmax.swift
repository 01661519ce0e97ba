#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// MARK: - Log-softmax gather and cross-entropy

/// Per-token log-probabilities of given target tokens: `logprobs[n] = logits[n, targets[n]] - logsumexp(logits[n])`.
///
/// This is what the policy-gradient learner needs (the log-probability of each sampled token); cross-entropy is
/// its negative mean. Rows whose `mask` is 0 get log-probability 0 and never contribute a gradient.
///
/// - Parameters:
///   - logprobs: `(N)`, overwritten.
///   - lse: `(N)`, the log-sum-exp of each row, kept for the backward pass.
///   - logits: `(N, V)`.
///   - targets: `(N)`, each in `0..<V` (any value where masked out).
///   - mask: `(N)`, 1 for rows that count and 0 for padding, or nil for all rows.
public func logSoftmaxGatherForward(
    logprobs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
    targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
) {
    parallelChunks(N, minimumPerChunk: max(1, (1 << 15) / max(V, 1))) { rows in
        for n in rows {
            let row = logits + n * V  // (V)
            var maxLogit = -Float.infinity
            for v in 0..<V { maxLogit = max(maxLogit, row[v]) }
            var sum: Float = 0
            for v in 0..<V { sum += expf(row[v] - maxLogit) }
            lse[n] = maxLogit + logf(sum)
            if let mask, mask[n] == 0 {
                logprobs[n] = 0
            } else {
                logprobs[n] = row[Int(targets[n])] - lse[n]
            }
        }
    }
}

/// Log-softmax gather backward: `dlogits[n, v] += dlogprobs[n] * (1{v == target} - softmax(logits[n])[v])`.
///
/// - Parameters:
///   - dlogits: `(N, V)`, accumulates.
///   - dlogprobs: `(N)`, the gradient of each token's log-probability (for a policy-gradient loss, the negated
///     per-token weight; for mean cross-entropy, `-1 / count` on unmasked rows).
///   - logits: `(N, V)`.
///   - lse: `(N)`, from the forward pass.
///   - targets: `(N)`.
///   - mask: `(N)` or nil, as in the forward pass.
public func logSoftmaxGatherBackward(
    dlogits: UnsafeMutablePointer<Float>, dlogprobs: UnsafePointer<Float>, logits: UnsafePointer<Float>,
    lse: UnsafePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
) {
    parallelChunks(N, minimumPerChunk: max(1, (1 << 15) / max(V, 1))) { rows in
        for n in rows {
            if let mask, mask[n] == 0 { continue }
            let g = dlogprobs[n]
            if g == 0 { continue }
            let row = logits + n * V  // (V)
            let drow = dlogits + n * V  // (V)
            let l = lse[n]
            for v in 0..<V { drow[v] -= g * expf(row[v] - l) }
            drow[Int(targets[n])] += g
        }
    }
}

/// Mean softmax cross-entropy over the unmasked rows.
///
/// - Parameters:
///   - losses: `(N)`, overwritten with each row's loss (0 where masked).
///   - lse: `(N)`, kept for the backward pass.
///   - logits: `(N, V)`.
///   - targets: `(N)`.
///   - mask: `(N)` or nil.
/// - Returns: the mean loss over unmasked rows (0 if every row is masked).
@discardableResult
public func crossEntropyForward(
    losses: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
    targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
) -> Float {
    logSoftmaxGatherForward(logprobs: losses, lse: lse, logits: logits, targets: targets, mask: mask, N: N, V: V)
    var total: Double = 0
    var count = 0
    for n in 0..<N where mask == nil || mask![n] != 0 {
        losses[n] = -losses[n]
        total += Double(losses[n])
        count += 1
    }
    return count == 0 ? 0 : Float(total / Double(count))
}

/// Backward of the mean cross-entropy scaled by `dloss`; `dlogits` accumulates.
///
/// - Parameters:
///   - dlogits: `(N, V)`.
///   - dloss: the gradient of the mean loss (1 for the loss itself).
///   - logits: `(N, V)`, `lse`: `(N)`, `targets`: `(N)`, `mask`: `(N)` or nil, as in the forward pass.
public func crossEntropyBackward(
    dlogits: UnsafeMutablePointer<Float>, dloss: Float, logits: UnsafePointer<Float>, lse: UnsafePointer<Float>,
    targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>?, N: Int, V: Int
) {
    var count = 0
    for n in 0..<N where mask == nil || mask![n] != 0 { count += 1 }
    if count == 0 { return }
    let dlogprobs = [Float](repeating: -dloss / Float(count), count: N)  // (N)
    dlogprobs.withUnsafeBufferPointer {
        logSoftmaxGatherBackward(
            dlogits: dlogits, dlogprobs: $0.baseAddress!, logits: logits, lse: lse, targets: targets, mask: mask,
            N: N, V: V)
    }
}
