/// Where each step's seconds went, as two stacked bars per step: the sampler's (sample, then the grading not
/// hidden behind sampling) and the learner's (learn, then wait for the next batch), with the step's wall time
/// as a line. Pipelined one-off, the sampler drew step k's batch while the learner worked on step k − 1, so the
/// two timelines overlap; with `--pipeline off` they follow one another.
struct TimeSplitPlot: Sendable {
    var id = "plot-time-split"
    var title = "Time split per step"
    var steps: [MetricsLine]

    struct Part {
        var key: String
        var name: String
        var colour: String
    }

    static let sampler = [Part(key: "sample_seconds", name: "sampler: sample", colour: "#4c78a8"),
                          Part(key: "grade_seconds", name: "sampler: grade", colour: "#9ecae9")]
    static let learner = [Part(key: "learn_seconds", name: "learner: learn", colour: "#f58518"),
                          Part(key: "wait_seconds", name: "learner: wait", colour: "#ffbf79")]
    static let wall = Part(key: "seconds", name: "step wall time", colour: "#333333")

    func svg(standalone: Bool = false) -> String {
        let parts = Self.sampler + Self.learner
        let legend = parts.map { LegendEntry(name: $0.name, colour: $0.colour, mark: .swatch) }
            + [LegendEntry(name: Self.wall.name, colour: Self.wall.colour, mark: .line(dashed: false))]
        let frame = PlotFrame(id: id, title: title, xLabel: "step (left bar: sampler, right bar: learner)",
                              yLabel: "seconds", legend: legend)
        let shown = steps.filter { line in (parts + [Self.wall]).contains { line[$0.key]?.isFinite ?? false } }
        guard !shown.isEmpty else {
            let keys = (parts + [Self.wall]).map(\.key).joined(separator: ", ")
            return frame.renderEmpty(note: "no data: metrics.jsonl has no \(keys)", standalone: standalone)
        }
        func total(_ line: MetricsLine, _ bar: [Part]) -> Double { bar.compactMap { finite(line[$0.key]) }.reduce(0, +) }
        let heights: [Double] = shown.flatMap { line -> [Double] in
            [total(line, Self.sampler), total(line, Self.learner), finite(line[Self.wall.key]) ?? 0]
        }
        let x = PlotAxis.steps(shown.map { Double($0.step) }, padding: 0.5, pixels: (frame.left, frame.right))
        let y = PlotAxis.values(heights, fixed: nil, pixels: (frame.bottom, frame.top))
        // Each step's band holds the two bars side by side with a gap around them.
        let band = abs(x.pixel(1) - x.pixel(0))
        let barWidth = band * 0.4
        var marks = ""
        for line in shown {
            let centre = x.pixel(Double(line.step))
            marks += stack(line, Self.sampler, left: centre - barWidth, width: barWidth, y: y)
            marks += stack(line, Self.learner, left: centre, width: barWidth, y: y)
        }
        let wall = PlotSeries.of(Self.wall.key, in: shown, name: Self.wall.name, colour: Self.wall.colour)
        marks += LinePlot.marks(of: wall, x: x, y: y)
        return frame.render(x: x, y: y, marks: marks, standalone: standalone)
    }

    /// One bar: `parts` stacked from zero, a missing part counted as zero.
    func stack(_ line: MetricsLine, _ parts: [Part], left: Double, width: Double, y: PlotAxis) -> String {
        var base = 0.0, svg = ""
        for part in parts {
            guard let seconds = finite(line[part.key]), seconds > 0 else { continue }
            let top = y.pixel(base + seconds), bottom = y.pixel(base)
            svg += "<rect class=\"\(part.key)\" x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(width))\" "
                + "height=\"\(svgNumber(bottom - top))\" fill=\"\(part.colour)\"><title>step \(line.step) \(escapeMarkup(part.name)): "
                + "\(String(format: "%.3f", seconds)) s</title></rect>"
            base += seconds
        }
        return svg
    }

    func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
}
