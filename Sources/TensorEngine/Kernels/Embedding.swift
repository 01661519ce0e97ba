// MARK: - Token embedding

/// Looks up one row of the embedding table per token.
///
/// - Parameters:
///   - out: `(N, C)`, overwritten.
///   - tokens: `(N)`, each in `0..<V`.
///   - weight: `(V, C)`, the embedding table.
public func embeddingForward(
    out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, weight: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N {
        (out + n * C).update(from: weight + Int(tokens[n]) * C, count: C)
    }
}

/// Scatters output gradients back into the rows of the embedding table (accumulates).
///
/// - Parameters:
///   - dweight: `(V, C)`.
///   - dout: `(N, C)`.
///   - tokens: `(N)`.
public func embeddingBackward(
    dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, N: Int, C: Int
) {
    for n in 0..<N {
        let row = dweight + Int(tokens[n]) * C  // (C)
        let d = dout + n * C  // (C)
        for c in 0..<C { row[c] += d[c] }
    }
}
