import Foundation

/// An axis: a linear map from data values to pixels, and where its ticks go.
struct PlotAxis: Sendable {
    var domain: ClosedRange<Double>
    /// Pixels of `domain.lowerBound` and `domain.upperBound` (for a y axis the first is the larger).
    var pixels: (Double, Double)
    var ticks: [Double]
    /// Decimals a tick label needs to tell neighbouring ticks apart.
    var decimals: Int

    func pixel(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        return pixels.0 + (value - domain.lowerBound) / span * (pixels.1 - pixels.0)
    }

    func label(_ tick: Double) -> String {
        if abs(tick) >= 1e5 { return String(format: "%.3g", tick) }
        return String(format: "%.\(decimals)f", tick)
    }

    /// An axis over `values`, widened to "nice" tick boundaries (1, 2 or 5 × 10^k apart) so the data never
    /// touches the frame; `fixed` is kept when every value fits in it (rates stay 0...1 and runs compare).
    static func values(_ values: [Double], fixed: ClosedRange<Double>?, pixels: (Double, Double)) -> PlotAxis {
        var low = values.min() ?? 0, high = values.max() ?? 1
        if let fixed, low >= fixed.lowerBound, high <= fixed.upperBound {
            (low, high) = (fixed.lowerBound, fixed.upperBound)
        } else {
            // Counts, lengths and seconds read best against zero.
            low = min(low, 0)
        }
        if high <= low { high = low + max(abs(low), 1) }
        let step = niceStep((high - low) / 5)
        let domain = (low / step).rounded(.down) * step...(high / step).rounded(.up) * step
        return PlotAxis(domain: domain, pixels: pixels, ticks: ticks(in: domain, step: step), decimals: decimals(step))
    }

    /// An axis over steps (integers): the domain is exactly the steps shown, padded by `padding` (bars need half
    /// a step each side), with integer ticks.
    static func steps(_ steps: [Double], padding: Double, pixels: (Double, Double)) -> PlotAxis {
        let low = steps.min() ?? 0, high = max(steps.max() ?? 1, low + 1)
        let domain = (low - padding)...(high + padding)
        let step = max(1, niceStep((high - low) / 6))
        return PlotAxis(domain: domain, pixels: pixels, ticks: ticks(in: low...high, step: step), decimals: 0)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
    }

    static func ticks(in domain: ClosedRange<Double>, step: Double) -> [Double] {
        let first = (domain.lowerBound / step).rounded(.up)
        let last = (domain.upperBound / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    static func decimals(_ step: Double) -> Int { max(0, min(6, -Int((log10(step) + 1e-9).rounded(.down)))) }
}

/// An SVG coordinate: one decimal is finer than a pixel and keeps the markup small.
func svgNumber(_ value: Double) -> String { String(format: "%.1f", value) }
