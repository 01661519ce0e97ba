/// `assay report`: a run directory (and optionally a control run's) as a self-contained HTML page with SVG plots,
/// and the main curve as an SVG of its own.
public struct RunReport: Sendable {
    let run: ReportedRun
    let control: ReportedRun?

    /// Reads `directory/metrics.jsonl` and `config.json` (and the control's); throws `RunReportError` when a
    /// directory is not a run directory or a metrics line is malformed.
    public init(directory: String, control: String? = nil) throws {
        run = try ReportedRun(directory: directory)
        self.control = try control.map { try ReportedRun(directory: $0) }
    }

    /// The whole report: recipe summary, before/after table, plots.
    public func html() -> String { ReportPage(run: run, control: control).html() }

    /// The before/after table as plain text.
    public func beforeAfterText() -> String { BeforeAfterTable(run: run, control: control).text() }

    /// Train reward with held-out pass@1 and pass@n (and the control's, dashed) as a standalone SVG file.
    public func curveSVG() -> String { ReportPlots(run: run, control: control).rewardPlot.svg(standalone: true) + "\n" }
}
