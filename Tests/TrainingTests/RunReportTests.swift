import Foundation
import Testing
@testable import Training

/// `assay report`'s page, from run directories: a real run's (testdata/training/report-run) and hand-made ones.
struct RunReportTests {
    static let fixture = TrainingFixtures.repositoryRoot + "/testdata/training/report-run"

    /// A run directory holding `metrics` (and `config` as config.json when given).
    func runDirectory(metrics: String, config: String? = nil, name: String = "report") throws -> String {
        let dir = TrainingFixtures.temporaryDirectory(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try metrics.write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        if let config { try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8) }
        return dir
    }

    /// The SVG element with `id`, from its opening tag to its end.
    func svg(_ id: String, in html: String) throws -> Substring {
        let start = try #require(html.range(of: "<svg id=\"\(id)\""), "no SVG \(id)")
        let end = try #require(html[start.lowerBound...].range(of: "</svg>"))
        return html[start.lowerBound..<end.upperBound]
    }

    static let plotIDs = ["plot-reward", "plot-no-code", "plot-response-length", "plot-truncated", "plot-clip",
                          "plot-gradient-norm", "plot-time-split"]

    @Test func everyPlotIsOnThePageWithItsCurves() throws {
        let html = try RunReport(directory: Self.fixture).html()
        #expect(html.components(separatedBy: "<svg ").count - 1 == Self.plotIDs.count)
        for id in Self.plotIDs {
            let plot = try svg(id, in: html)
            #expect(plot.contains("<path d=\"M"), "\(id) draws no curve")
            #expect(!plot.contains("no data"), "\(id) says it has no data")
        }
        let reward = try svg("plot-reward", in: html)
        for name in ["train reward", "held-out pass@1", "held-out pass@2"] { #expect(reward.contains(">\(name)</text>")) }
        let time = try svg("plot-time-split", in: html)
        for part in ["sample_seconds", "grade_seconds", "learn_seconds", "wait_seconds"] {
            #expect(time.contains("<rect class=\"\(part)\""), "no \(part) bar")
        }
        // Self-contained: nothing is fetched, nothing runs.
        for outside in ["<script", "<link", "src=", "href=", "@import", "url("] { #expect(!html.contains(outside)) }
    }

    @Test func theRecipeIsSummarisedUnderTheTitle() throws {
        let html = try RunReport(directory: Self.fixture).html()
        #expect(html.contains("<title>assay report: \(Self.fixture)</title>"))
        for item in ["<dt>steps</dt><dd>4</dd>", "<dt>prompts × group</dt><dd>2 × 4</dd>", "<dt>learning rate</dt><dd>0.001</dd>",
                     "<dt>temperature</dt><dd>1</dd>", "<dt>pipeline</dt><dd>one-off</dd>", "<dt>model</dt>", "<dt>data</dt>"] {
            #expect(html.contains(item), "missing \(item)")
        }
    }

    @Test func beforeAndAfterAreTheFirstAndLastValidation() throws {
        let html = try RunReport(directory: Self.fixture).html()
        let table = try #require(html.range(of: "<table").map { html[$0.lowerBound...] }?.prefix { _ in true })
        #expect(table.contains("<th>before training</th><th>after 4 steps</th><th>change</th>"))
        #expect(table.contains("<th>held-out pass@1</th><td>50.0%</td><td>75.0%</td><td>+25.0 pts</td>"))
        #expect(table.contains("<th>held-out pass@2</th><td>50.0%</td><td>100.0%</td><td>+50.0 pts</td>"))
        #expect(table.contains("<th>held-out no-code rate</th><td>0.0%</td><td>0.0%</td><td>+0.0 pts</td>"))
    }

    /// What `assay train` prints at its end.
    @Test func theTextTableHasTheSameNumbers() throws {
        let lines = try RunReport(directory: Self.fixture).beforeAfterText().split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        #expect(lines == ["before training after 4 steps change", "held-out pass@1 50.0% 75.0% +25.0 pts",
                          "held-out pass@2 50.0% 100.0% +50.0 pts", "held-out no-code rate 0.0% 0.0% +0.0 pts"])
    }

    @Test func heldOutPointsSitAtTheStepWhoseWeightsTheyHad() throws {
        let metrics = try RunMetrics.read(directory: URL(fileURLWithPath: Self.fixture))
        #expect(metrics.validations.map(\.validationPosition) == [0, 2, 4])
        #expect(metrics.trainingSteps.map(\.step) == [0, 1, 2, 3])
        #expect(metrics.trainingSteps[2]["heldout_pass_at_1"] == 0.5)
    }

    @Test func passAtNIsNamedFromTheValidationsSamplesOrStaysN() throws {
        let dir = try runDirectory(metrics: #"{"step":-1,"heldout_pass_at_1":0.2,"heldout_pass_at_n":0.4}"# + "\n")
        let html = try RunReport(directory: dir).html()
        #expect(html.contains("<th>held-out pass@n</th><td>40.0%</td><td>—</td><td>—</td>"))
        #expect(html.contains("<th>after (none yet)</th>"))
    }

    @Test func textFromTheRunIsEscaped() throws {
        let hostile = #"</title><script>alert("x")</script>&'"#
        let dir = try runDirectory(metrics: #"{"step":-1,"heldout_pass_at_1":0.1}"# + "\n" + #"{"step":0,"reward_mean":0.5}"# + "\n",
                                   config: "{\"model\": \"\(hostile.replacingOccurrences(of: "\"", with: "\\\""))\", \"steps\": 1}",
                                   name: "report-<b>&")
        let report = try RunReport(directory: dir)
        for text in [report.html(), report.curveSVG()] {
            #expect(!text.contains("<script"))
            #expect(!text.contains("<b>"))
        }
        let html = report.html()
        #expect(html.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(html.contains("report-&lt;b&gt;&amp;"))
        #expect(escapeMarkup(#"a<b>&"c'"#) == "a&lt;b&gt;&amp;&quot;c&#39;")
    }

    @Test func missingKeysLeaveGapsAndAPlotWithoutDataSaysSo() throws {
        // An old run: no held-out keys, no timing, one step without a reward, unknown keys and arrays.
        let dir = try runDirectory(metrics: """
            {"step":0,"reward_mean":0.25,"future_key":"text","policy_versions":[0]}
            {"step":1,"something_new":3}
            {"step":2,"reward_mean":0.5}
            {"step":3,"reward_mean":0.75}

            """)
        let html = try RunReport(directory: dir).html()
        let reward = try svg("plot-reward", in: html)
        let path = try #require(reward.range(of: "<path d=\"").map { reward[$0.upperBound...].prefix { $0 != "\"" } })
        #expect(path.filter { $0 == "M" }.count == 2, "the step without a reward must break the curve: \(path)")
        #expect(path.filter { $0 == "L" }.count == 1)
        for id in ["plot-gradient-norm", "plot-time-split", "plot-clip"] {
            let plot = try svg(id, in: html)
            #expect(plot.contains("no data: metrics.jsonl has no"), "\(id)")
            #expect(!plot.contains("<path"), "\(id)")
        }
        #expect(try svg("plot-gradient-norm", in: html).contains("no data: metrics.jsonl has no gradient_norm"))
        #expect(html.contains("No held-out validation in metrics.jsonl"))
        #expect(html.contains("<dt>recipe</dt><dd>no readable config.json</dd>"))
    }

    @Test func aMalformedLineIsAnErrorThatNamesTheFileAndLine() throws {
        let dir = try runDirectory(metrics: "{\"step\":0,\"reward_mean\":0.5}\n{\"step\": 1, \"reward_mean\": \n{\"step\":2}\n")
        let file = dir + "/metrics.jsonl"
        #expect(throws: RunReportError.malformedLine(file: file, line: 2, reason: "not a JSON object")) {
            try RunReport(directory: dir)
        }
        #expect(RunReportError.malformedLine(file: file, line: 2, reason: "not a JSON object").description
            == "\(file) line 2: not a JSON object; every line must be a JSON object with an integer \"step\"")
        #expect(throws: RunReportError.malformedLine(file: "m", line: 1, reason: "no \"step\"")) {
            try RunMetrics.parse("{\"reward_mean\":1}\n", file: "m")
        }
        #expect(throws: RunReportError.malformedLine(file: "m", line: 3, reason: "\"step\" is not an integer")) {
            try RunMetrics.parse("{\"step\":0}\n\n{\"step\":1.5}\n", file: "m")
        }
        // A last line still being written (no newline yet) is left for the next report, not an error.
        #expect(try RunMetrics.parse("{\"step\":0}\n{\"step\":1,\"rew", file: "m").lines == [MetricsLine(step: 0, values: [:])])
    }

    @Test func aDirectoryWithoutMetricsIsNotARunDirectory() throws {
        let dir = TrainingFixtures.temporaryDirectory("report-empty")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(throws: RunReportError.notARunDirectory(dir)) { try RunReport(directory: dir) }
        #expect(RunReportError.notARunDirectory(dir).description.contains("is not a run directory: it has no metrics.jsonl"))
        #expect(throws: RunReportError.notARunDirectory(dir)) { try RunReport(directory: Self.fixture, control: dir) }
    }

    @Test func aControlRunIsDashedBesideTheRunWithItsOwnColumn() throws {
        let control = try runDirectory(metrics: """
            {"step":-1,"heldout_pass_at_1":0.5,"heldout_pass_at_n":0.5,"heldout_no_code_rate":0}
            {"step":0,"reward_mean":0.5}
            {"step":1,"reward_mean":0.25}
            {"step":2,"reward_mean":0.5,"heldout_pass_at_1":0.25,"heldout_pass_at_n":0.5,"heldout_no_code_rate":0.125}

            """, config: #"{"model":"m","data":"d","steps":3,"coinFlipControl":true}"#, name: "control")
        let report = try RunReport(directory: Self.fixture, control: control)
        let html = report.html()
        #expect(html.contains("<h2>Control run (dashed): <code>\(control)</code></h2>"))
        #expect(html.contains("<th colspan=\"3\">this run</th><th colspan=\"3\">control</th>"))
        #expect(html.contains("<dt>reward</dt><dd>coin flip at the step&#39;s mean sandbox reward (control)</dd>"))
        #expect(html.contains("<td>+25.0 pts</td><td>50.0%</td><td>25.0%</td><td>-25.0 pts</td>"))
        for curve in [try svg("plot-reward", in: html), report.curveSVG()[...]] {
            #expect(curve.components(separatedBy: "stroke-dasharray").count - 1 == 6, "3 dashed curves and their legend lines")
            #expect(curve.contains(">control: train reward</text>") && curve.contains(">control: held-out pass@n</text>"))
        }
        // Only the main curve compares runs.
        #expect(!(try svg("plot-gradient-norm", in: html)).contains("dasharray"))
    }

    @Test func theCurveSVGStandsAlone() throws {
        let curve = try RunReport(directory: Self.fixture).curveSVG()
        #expect(curve.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"plot-reward\""))
        #expect(curve.hasSuffix("</svg>\n"))
        #expect(curve.contains("<path d=\"M"))
    }

    @Test func axesGetNiceTicksAndRatesKeepZeroToOne() {
        let rate = PlotAxis.values([0.1, 0.37], fixed: 0...1, pixels: (300, 50))
        #expect(rate.domain == 0...1 && rate.ticks == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(rate.ticks.map(rate.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(rate.pixel(0) == 300 && rate.pixel(1) == 50)
        let length = PlotAxis.values([29, 42], fixed: nil, pixels: (300, 50))
        #expect(length.domain == 0...50 && length.ticks.map(length.label) == ["0", "10", "20", "30", "40", "50"])
        let flat = PlotAxis.values([0, 0], fixed: nil, pixels: (300, 50))
        #expect(flat.domain.upperBound > flat.domain.lowerBound)
        let steps = PlotAxis.steps([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], padding: 0, pixels: (0, 100))
        #expect(steps.ticks == [0, 5, 10, 15, 20])
        #expect(PlotAxis.steps([3], padding: 0.5, pixels: (0, 100)).ticks == [3, 4])
    }
}
