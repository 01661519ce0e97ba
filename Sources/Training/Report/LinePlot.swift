/// One curve: a value per step, nil where the run has none (the key missing on that line, or not finite).
struct PlotSeries: Sendable {
    var name: String
    var colour: String
    /// Dashed: the control run.
    var dashed = false
    var points: [(x: Double, y: Double?)]

    var drawnPoints: [(x: Double, y: Double)] { points.compactMap { p in p.y.flatMap { $0.isFinite ? (p.x, $0) : nil } } }

    /// `key` of each line, at the line's step.
    static func of(_ key: String, in lines: [MetricsLine], at position: (MetricsLine) -> Int = \.step,
                   name: String, colour: String, dashed: Bool = false) -> PlotSeries {
        PlotSeries(name: name, colour: colour, dashed: dashed, points: lines.map { (Double(position($0)), $0[key]) })
    }
}

/// A line plot of several series over steps.
struct LinePlot: Sendable {
    var id: String
    var title: String
    var yLabel: String
    var series: [PlotSeries]
    /// The y range to keep when every value fits (rates: 0...1).
    var fixedRange: ClosedRange<Double>? = nil
    /// The metrics.jsonl keys the plot reads, named when the run has none of them.
    var keys: [String]

    /// Up to this many points a series gets a dot on each one (held-out curves have few).
    static let markerLimit = 60

    func svg(standalone: Bool = false) -> String {
        let legend = series.map { LegendEntry(name: $0.name, colour: $0.colour, mark: .line(dashed: $0.dashed)) }
        let frame = PlotFrame(id: id, title: title, xLabel: "step", yLabel: yLabel, legend: legend)
        let drawn = series.flatMap(\.drawnPoints)
        guard !drawn.isEmpty else {
            return frame.renderEmpty(note: "no data: metrics.jsonl has no \(keys.joined(separator: ", "))", standalone: standalone)
        }
        let x = PlotAxis.steps(drawn.map(\.x), padding: 0, pixels: (frame.left, frame.right))
        let y = PlotAxis.values(drawn.map(\.y), fixed: fixedRange, pixels: (frame.bottom, frame.top))
        let marks = series.map { Self.marks(of: $0, x: x, y: y) }.joined()
        return frame.render(x: x, y: y, marks: marks, standalone: standalone)
    }

    /// A series as a path broken at its gaps, with dots where it has few points or a point stands alone.
    static func marks(of series: PlotSeries, x: PlotAxis, y: PlotAxis) -> String {
        var d = "", dots = ""
        var previousDrawn = false
        let many = series.drawnPoints.count > markerLimit
        for (i, point) in series.points.enumerated() {
            guard let value = point.y, value.isFinite else {
                previousDrawn = false
                continue
            }
            let px = svgNumber(x.pixel(point.x)), py = svgNumber(y.pixel(value))
            d += (previousDrawn ? " L" : " M") + "\(px) \(py)"
            let nextDrawn = i + 1 < series.points.count && (series.points[i + 1].y?.isFinite ?? false)
            if !many || (!previousDrawn && !nextDrawn) {
                dots += "<circle cx=\"\(px)\" cy=\"\(py)\" r=\"3\"/>"
            }
            previousDrawn = true
        }
        guard !d.isEmpty else { return "" }
        let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
        return "<g class=\"series\" data-name=\"\(escapeMarkup(series.name))\" fill=\"\(series.colour)\">"
            + "<path d=\"\(d.dropFirst())\" fill=\"none\" stroke=\"\(series.colour)\" stroke-width=\"2\"\(dash)/>\(dots)</g>"
    }
}
