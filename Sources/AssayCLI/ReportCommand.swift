import ArgumentParser
import Foundation
import Training

/// `assay report`: a run directory as a self-contained HTML page with SVG plots.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (SVG plots, no scripts) of an `assay train` run directory.",
        discussion: """
            Reads RUN_DIR/metrics.jsonl and RUN_DIR/config.json: the recipe summary, held-out pass@1, pass@n and \
            no-code rate at the first and last validation, and plots of train reward with the held-out pass rates, \
            no-code rate, response length, truncated fraction, clip fractions, gradient norm and the time split per \
            step. --control overlays another run (e.g. a coin-flip reward) dashed, with its own before/after column.
            """)

    @Argument(help: "The run directory (`assay train --run-dir`).")
    var runDirectory: String

    @Option(help: "The HTML file to write (default: RUN_DIR/report.html).")
    var out: String?

    @Option(help: "A control run's directory: its reward and held-out curves are drawn dashed beside the run's.")
    var control: String?

    @Option(name: .customLong("svg-out"), help: "Also write the main curve (train reward, held-out pass@1 and pass@n) as a standalone SVG.")
    var svgOut: String?

    func run() throws {
        // Qualified: `assay run` has a RunReport of its own in this module.
        let report = try Training.RunReport(directory: runDirectory, control: control)
        let htmlPath = out ?? URL(fileURLWithPath: runDirectory).appendingPathComponent("report.html").path
        try write(report.html(), to: htmlPath)
        print("report: \(htmlPath)")
        if let svgOut {
            try write(report.curveSVG(), to: svgOut)
            print("curve: \(svgOut)")
        }
    }

    /// Atomically, so a browser reloading the page never reads half of it.
    func write(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ValidationError("cannot write '\(path)': \(error.localizedDescription); check the directory and permissions")
        }
    }
}
