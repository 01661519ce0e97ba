import Foundation
import Testing
@testable import Training

/// Headless Chromium, found on PATH: renders a page to its DOM or to a PNG screenshot.
enum Chromium {
    static let path: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    /// CI must run the browser tests, so there a missing browser fails them instead of skipping them.
    static let requiredByCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static let missing = "chromium is not installed (apt-get install chromium, or scripts/install-deps.sh)"

    /// The browser, or a failure when CI needs it (the suite is skipped before this when it is missing locally).
    static func require() throws -> String {
        try #require(path, "CI=true and \(missing)")
    }

    /// Runs Chromium headless on `url` with `arguments`; returns its stdout. A hung browser is killed.
    static func run(_ browser: String, _ arguments: [String], url: URL, timeout: Double = 120) throws -> String {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("assay-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("stdout")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        // --no-sandbox: the tests run as root, where Chromium's own sandbox refuses to start; a profile of its
        // own per run, so tests running at once never share a profile lock.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--hide-scrollbars", "--user-data-dir=\(scratch.path)/profile"] + arguments + [url.absoluteString]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            Issue.record("chromium did not finish within \(Int(timeout)) s on \(url.path)")
        }
        return try String(contentsOf: output, encoding: .utf8)
    }

    static let windowSize = "--window-size=1240,2400"

    /// The DOM after the page loaded (and its scripts ran), serialised.
    static func dom(_ browser: String, of file: URL) throws -> String {
        try run(browser, ["--virtual-time-budget=5000", "--dump-dom"], url: file)
    }

    /// What a screenshot of `file` holds: its size, how many distinct colours, and how many pixels each of
    /// `colours` (#rrggbb) has exactly. The PNG is decoded by the browser itself: a page draws it onto a canvas
    /// and counts.
    struct Screenshot {
        var size: String
        var distinctColours: Int
        var pixels: [String: Int]
    }

    static func screenshot(_ browser: String, of file: URL, lookingFor colours: [String]) throws -> Screenshot {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-shot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = directory.appendingPathComponent("shot.png")
        _ = try run(browser, [windowSize, "--screenshot=\(png.path)"], url: file)
        let data = try Data(contentsOf: png)
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "the screenshot is not a PNG")
        // A data: URL keeps the canvas untainted, so the page may read its pixels back.
        let counter = """
            <!DOCTYPE html><html><body><img id="shot" src="data:image/png;base64,\(data.base64EncodedString())"><script>
            window.onload = () => {
              const img = document.getElementById('shot');
              const canvas = document.createElement('canvas');
              canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
              const context = canvas.getContext('2d');
              context.drawImage(img, 0, 0);
              const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
              const seen = new Map();
              for (let i = 0; i < pixels.length; i += 4) {
                const colour = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
                seen.set(colour, (seen.get(colour) || 0) + 1);
              }
              const wanted = [\(colours.map { "'\($0)'" }.joined(separator: ", "))];
              document.body.dataset.size = canvas.width + 'x' + canvas.height;
              document.body.dataset.colours = seen.size;
              document.body.dataset.pixels = wanted.map(c => c + '=' + (seen.get(parseInt(c.slice(1), 16)) || 0)).join(' ');
            };
            </script></body></html>
            """
        let counterPage = directory.appendingPathComponent("count.html")
        try counter.write(to: counterPage, atomically: true, encoding: .utf8)
        let dom = try self.dom(browser, of: counterPage)
        func attribute(_ name: String) -> String? {
            dom.range(of: "data-\(name)=\"").map { dom[$0.upperBound...].prefix { $0 != "\"" } }.map(String.init)
        }
        var counts: [String: Int] = [:]
        for pair in (attribute("pixels") ?? "").split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { counts[String(parts[0])] = Int(parts[1]) }
        }
        return Screenshot(size: attribute("size") ?? "none", distinctColours: Int(attribute("colours") ?? "") ?? 0, pixels: counts)
    }
}

/// `assay report` in a real browser: the built binary writes the fixture run's report, headless Chromium renders
/// it, and the DOM and a screenshot show the plots are there and drawn.
@Suite(.serialized, .enabled(if: Chromium.path != nil || Chromium.requiredByCI,
                             "\(Chromium.missing); skipped here, a failure when CI=true"))
struct ReportBrowserTests {
    static let fixture = "testdata/training/report-run"
    static let plotIDs = ["plot-reward", "plot-no-code", "plot-response-length", "plot-truncated", "plot-clip",
                          "plot-gradient-norm", "plot-time-split"]

    /// Writes the fixture's report and curve into a fresh directory with the built binary.
    func writeReport() throws -> (html: URL, svg: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let html = directory.appendingPathComponent("report.html"), svg = directory.appendingPathComponent("curve.svg")
        let out = try CLITests().assay(["report", Self.fixture, "--out", html.path, "--svg-out", svg.path])
        #expect(out.status == 0, "assay report failed: \(out.stderr)")
        #expect(out.stdout == "report: \(html.path)\ncurve: \(svg.path)\n")
        return (html, svg)
    }

    @Test func theReportsDOMHasEveryPlotWithItsCurves() throws {
        let browser = try Chromium.require()
        let dom = try Chromium.dom(browser, of: try writeReport().html)
        for id in Self.plotIDs {
            let start = try #require(dom.range(of: "<svg id=\"\(id)\""), "the rendered DOM has no SVG \(id)")
            let plot = dom[start.lowerBound...].prefix { _ in true }.components(separatedBy: "</svg>")[0]
            #expect(plot.contains("<path d=\"M"), "\(id) has no curve in the DOM")
            #expect(!plot.contains("no data"), "\(id) says it has no data")
        }
        #expect(dom.contains("<td>75.0%</td>"), "the before/after table is not in the DOM")
    }

    @Test func aScreenshotOfTheReportShowsThePlotsColours() throws {
        let browser = try Chromium.require()
        // Colours only the plots draw: the time split's bars and the main curve's lines.
        let bars = (TimeSplitPlot.sampler + TimeSplitPlot.learner).map(\.colour)
        let colours = bars + [ReportPlots.Colour.reward, ReportPlots.Colour.passAt1, ReportPlots.Colour.passAtN]
        let shot = try Chromium.screenshot(browser, of: try writeReport().html, lookingFor: colours)
        #expect(shot.size == "1240x2400")
        #expect(shot.distinctColours > 1, "the screenshot is blank")
        for colour in colours { #expect(shot.pixels[colour, default: 0] > 0, "no \(colour) pixel in the screenshot") }
        // A bar colour's 12×12 legend swatch alone would give 144 pixels: more means the bars themselves are drawn.
        for colour in bars {
            #expect(shot.pixels[colour, default: 0] > 3 * 144, "the \(colour) bars are not drawn: \(shot.pixels)")
        }

        // The same check on a blank page fails: it can tell a drawn page from an empty one.
        let blank = FileManager.default.temporaryDirectory.appendingPathComponent("assay-blank-\(UUID().uuidString).html")
        try "<!DOCTYPE html><html><body></body></html>".write(to: blank, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: blank) }
        let empty = try Chromium.screenshot(browser, of: blank, lookingFor: colours)
        #expect(empty.size == "1240x2400")
        #expect(empty.distinctColours == 1 && empty.pixels.values.allSatisfy { $0 == 0 } && empty.pixels.count == colours.count)
    }

    @Test func theStandaloneCurveIsAnSVGTheBrowserParses() throws {
        let browser = try Chromium.require()
        // Served as image/svg+xml, the file goes through the strict XML parser, as on GitHub.
        let dom = try Chromium.dom(browser, of: try writeReport().svg)
        #expect(!dom.contains("parsererror"), "the curve is not well-formed XML: \(dom.prefix(400))")
        #expect(dom.contains("<path d=\"M") && dom.contains("held-out pass@2"))
    }
}

/// `assay report`'s errors, from the built binary (no browser needed).
struct ReportCommandTests {
    @Test func aDirectoryWithoutARunIsAClearErrorAndWritesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-report-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let out = try CLITests().assay(["report", directory.path])
        #expect(out.status != 0)
        #expect(out.stderr.contains("\(directory.path) is not a run directory: it has no metrics.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("report.html").path))
    }

    @Test func aMalformedLineNamesTheFileAndLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-report-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "{\"step\":0}\nnot json\n".write(to: directory.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let out = try CLITests().assay(["report", directory.path])
        #expect(out.status != 0)
        #expect(out.stderr.contains("\(directory.path)/metrics.jsonl line 2: not a JSON object"))
    }
}
