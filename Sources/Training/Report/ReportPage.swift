/// The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.
struct ReportPage: Sendable {
    var run: ReportedRun
    var control: ReportedRun?

    static let style = """
        body{font-family:sans-serif;margin:24px;color:#222;background:#fafafa}
        h1{font-size:20px;word-break:break-all}h2{font-size:16px;margin-top:28px}
        dl.recipe{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:13px}
        dl.recipe dt{color:#666}dl.recipe dd{margin:0;word-break:break-all}
        table.before-after{border-collapse:collapse;font-size:14px}
        table.before-after th,table.before-after td{border:1px solid #ccc;padding:4px 10px;text-align:right}
        table.before-after tbody th{text-align:left}
        .plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
        figure{margin:0;background:#fff;border:1px solid #ddd;padding:8px}
        figure svg{max-width:100%;height:auto;display:block}
        figcaption{font-size:12px;color:#555;margin-top:4px}
        """

    func html() -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<title>assay report: \(escapeMarkup(run.directory))</title><style>\(Self.style)</style></head><body>"
        html += "<h1>assay report: <code>\(escapeMarkup(run.directory))</code></h1>"
        html += recipe(run.recipe)
        if let control {
            html += "<h2>Control run (dashed): <code>\(escapeMarkup(control.directory))</code></h2>" + recipe(control.recipe)
        }
        html += "<h2>Held-out, before and after</h2>" + BeforeAfterTable(run: run, control: control).html()
        html += "<h2>Plots</h2><div class=\"plots\">"
        for figure in ReportPlots(run: run, control: control).figures {
            html += "<figure>\(figure.svg)<figcaption>\(escapeMarkup(figure.caption))</figcaption></figure>"
        }
        html += "</div><p><small>Written by <code>assay report</code> from the run directory's metrics.jsonl and config.json.</small></p>"
        return html + "</body></html>\n"
    }

    func recipe(_ summary: RecipeSummary) -> String {
        "<dl class=\"recipe\">" + summary.items.map { "<dt>\(escapeMarkup($0.label))</dt><dd>\(escapeMarkup($0.value))</dd>" }.joined() + "</dl>"
    }
}
