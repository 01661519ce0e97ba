// MARK: - Residual and elementwise helpers

/// `out = a + b`, elementwise.
///
/// - Parameters:
///   - out: `(N)`, overwritten; may alias `a` or `b`.
///   - a: `(N)`.
///   - b: `(N)`.
public func residualForward(
    out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, N: Int
) {
    for i in 0..<N { out[i] = a[i] + b[i] }
}

/// `dst += src`, elementwise: the backward of a residual add for each of its inputs.
///
/// - Parameters:
///   - dst: `(N)`.
///   - src: `(N)`.
public func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, N: Int) {
    for i in 0..<N { dst[i] += src[i] }
}
