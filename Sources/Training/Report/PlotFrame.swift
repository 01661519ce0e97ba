/// How a legend entry is drawn: a line (dashed for a control run) or a filled swatch (bars).
struct LegendEntry: Sendable {
    enum Mark: Sendable { case line(dashed: Bool), swatch }
    var name: String
    var colour: String
    var mark: Mark
}

/// What every plot shares: the SVG element with its background, the title, a wrapping legend, the axes with
/// gridlines, ticks and labels, and the note a plot with no data shows instead. A plot draws its marks inside
/// `left...right` × `top...bottom`.
struct PlotFrame: Sendable {
    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var legend: [LegendEntry]

    static let width = 560.0, height = 330.0
    static let fontSize = 12.0
    /// A rough width of a character at `fontSize` in a sans-serif font: enough to wrap the legend.
    static let characterWidth = 6.8
    let left = 62.0, right = PlotFrame.width - 18

    /// Legend entries in rows that fit the width.
    var legendRows: [[LegendEntry]] {
        var rows: [[LegendEntry]] = [[]]
        var used = 0.0
        for entry in legend {
            let width = Self.entryWidth(entry)
            if used + width > right - left, !rows[rows.count - 1].isEmpty {
                rows.append([])
                used = 0
            }
            rows[rows.count - 1].append(entry)
            used += width
        }
        return rows.filter { !$0.isEmpty }
    }

    static func entryWidth(_ entry: LegendEntry) -> Double { 34 + Double(entry.name.count) * characterWidth }

    var top: Double { 34 + Double(legendRows.count) * 18 + 8 }
    var bottom: Double { Self.height - 46 }

    /// The plot with its marks; `standalone` adds the XML namespace a file on its own needs.
    func render(x: PlotAxis, y: PlotAxis, marks: String, standalone: Bool) -> String {
        var svg = opening(standalone: standalone)
        svg += "<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">"
        for tick in y.ticks {
            let py = svgNumber(y.pixel(tick))
            svg += "<line x1=\"\(svgNumber(left))\" y1=\"\(py)\" x2=\"\(svgNumber(right))\" y2=\"\(py)\"/>"
        }
        svg += "</g>"
        svg += "<g class=\"ticks\" font-size=\"11\" fill=\"#444\">"
        for tick in y.ticks {
            svg += "<text x=\"\(svgNumber(left - 6))\" y=\"\(svgNumber(y.pixel(tick) + 4))\" text-anchor=\"end\">\(y.label(tick))</text>"
        }
        for tick in x.ticks {
            let px = svgNumber(x.pixel(tick))
            svg += "<line x1=\"\(px)\" y1=\"\(svgNumber(bottom))\" x2=\"\(px)\" y2=\"\(svgNumber(bottom + 5))\" stroke=\"#444\"/>"
            svg += "<text x=\"\(px)\" y=\"\(svgNumber(bottom + 18))\" text-anchor=\"middle\">\(x.label(tick))</text>"
        }
        svg += "</g>"
        svg += "<path class=\"axes\" d=\"M\(svgNumber(left)) \(svgNumber(top)) V\(svgNumber(bottom)) H\(svgNumber(right))\" stroke=\"#444\" fill=\"none\"/>"
        svg += "<text x=\"\(svgNumber((left + right) / 2))\" y=\"\(svgNumber(Self.height - 8))\" text-anchor=\"middle\">\(escapeMarkup(xLabel))</text>"
        let midY = svgNumber((top + bottom) / 2)
        svg += "<text x=\"14\" y=\"\(midY)\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(midY))\">\(escapeMarkup(yLabel))</text>"
        svg += "<g class=\"marks\">\(marks)</g>"
        return svg + "</svg>"
    }

    /// The frame with `note` where the marks would be: a plot without data says so instead of drawing empty axes.
    func renderEmpty(note: String, standalone: Bool) -> String {
        opening(standalone: standalone)
            + "<text class=\"no-data\" x=\"\(svgNumber(Self.width / 2))\" y=\"\(svgNumber((top + bottom) / 2))\" text-anchor=\"middle\" fill=\"#888\">\(escapeMarkup(note))</text></svg>"
    }

    func opening(standalone: Bool) -> String {
        let namespace = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        var svg = "<svg\(namespace) id=\"\(escapeMarkup(id))\" class=\"plot\" width=\"\(Int(Self.width))\" height=\"\(Int(Self.height))\" "
            + "viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-label=\"\(escapeMarkup(title))\" "
            + "font-family=\"sans-serif\" font-size=\"\(Int(Self.fontSize))\">"
        svg += "<title>\(escapeMarkup(title))</title>"
        // A background of its own, so the plot reads on a dark page too (the README's image).
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
        svg += "<text x=\"\(svgNumber(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(escapeMarkup(title))</text>"
        for (row, entries) in legendRows.enumerated() {
            var x = left
            let y = 42 + Double(row) * 18
            for entry in entries {
                switch entry.mark {
                case .line(let dashed):
                    let dash = dashed ? " stroke-dasharray=\"6 4\"" : ""
                    svg += "<line x1=\"\(svgNumber(x))\" y1=\"\(svgNumber(y - 4))\" x2=\"\(svgNumber(x + 24))\" y2=\"\(svgNumber(y - 4))\" stroke=\"\(entry.colour)\" stroke-width=\"2.5\"\(dash)/>"
                case .swatch:
                    svg += "<rect x=\"\(svgNumber(x + 6))\" y=\"\(svgNumber(y - 10))\" width=\"12\" height=\"12\" fill=\"\(entry.colour)\"/>"
                }
                svg += "<text x=\"\(svgNumber(x + 29))\" y=\"\(svgNumber(y))\">\(escapeMarkup(entry.name))</text>"
                x += Self.entryWidth(entry)
            }
        }
        return svg
    }
}
