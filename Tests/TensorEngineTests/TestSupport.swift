import Foundation
import Testing

@testable import TensorEngine

/// The repository's `testdata/` directory, found from this file's path (SwiftPM resources must sit inside the
/// target, and the goldens are shared with the scripts that write them).
let testdataDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("testdata")

/// Compares two float sequences elementwise with `|a - b| <= atol + rtol * |b|` and records one issue that names
/// the tensor, the worst index and the max difference (llm.c's `check_tensor`).
@discardableResult
func checkTensor(
    _ actual: [Float], _ expected: [Float], label: String, atol: Float, rtol: Float = 0,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Float {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return .infinity
    }
    var maxDiff: Float = 0
    var worst = -1
    for i in 0..<actual.count {
        let diff = abs(actual[i] - expected[i])
        if !(diff <= atol + rtol * abs(expected[i])) && (worst < 0 || diff > abs(actual[worst] - expected[worst])) {
            worst = i
        }
        maxDiff = max(maxDiff, diff.isNaN ? .infinity : diff)
    }
    if worst >= 0 {
        Issue.record(
            "\(label): max diff \(maxDiff); at [\(worst)] got \(actual[worst]), expected \(expected[worst]) (atol \(atol), rtol \(rtol))",
            sourceLocation: sourceLocation)
    }
    return maxDiff
}

/// Random values in [-scale, scale), reproducible from the seed.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
}

/// Central finite differences of a scalar function over a sample of the entries of `x`, compared with `analytic`.
///
/// The loss is accumulated in Double by the caller so that the difference of two nearby float32 evaluations is
/// dominated by the function's change, not by summation rounding. With `eps` 1e-2 the truncation error is
/// O(eps²·f''') ≈ 1e-4 for these smooth kernels, far inside the tolerance.
func finiteDifferenceCheck(
    _ label: String, x: UnsafeMutablePointer<Float>, count: Int, analytic: [Float], samples: Int = 24,
    eps: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation, loss: () -> Double
) {
    var rng = SplitMix64(seed: seed)
    let indices = count <= samples ? Array(0..<count) : (0..<samples).map { _ in Int(rng.next() % UInt64(count)) }
    var failures: [String] = []
    for i in indices {
        let saved = x[i]
        x[i] = saved + eps
        let plus = loss()
        x[i] = saved - eps
        let minus = loss()
        x[i] = saved
        let numeric = (plus - minus) / (2 * Double(eps))
        let a = Double(analytic[i])
        if abs(numeric - a) > atol + rtol * abs(numeric) {
            failures.append("[\(i)] analytic \(a) numeric \(numeric)")
        }
    }
    if !failures.isEmpty {
        Issue.record("\(label): \(failures.count) of \(indices.count) entries differ: \(failures.prefix(4).joined(separator: "; "))",
                     sourceLocation: sourceLocation)
    }
}

/// `sum(out * weights)` in Double: a scalar whose gradient with respect to `out` is `weights`.
func weightedSum(_ out: UnsafePointer<Float>, _ weights: [Float]) -> Double {
    var s: Double = 0
    for i in 0..<weights.count { s += Double(out[i]) * Double(weights[i]) }
    return s
}

extension Tensor {
    /// A tensor of reproducible random values.
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        Tensor(shape: shape, values: randomValues(shape.reduce(1, *), seed: seed, scale: scale))
    }
}
