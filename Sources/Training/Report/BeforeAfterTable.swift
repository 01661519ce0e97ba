import Foundation

/// Held-out pass@1, pass@n and no-code rate at a run's first and last validation, and the change, for the run
/// and (when given) its control.
struct BeforeAfterTable: Sendable {
    var run: ReportedRun
    var control: ReportedRun?

    func html() -> String {
        let runs = [("this run", run)] + (control.map { [("control", $0)] } ?? [])
        guard runs.contains(where: { $0.1.firstValidation != nil }) else {
            return "<p class=\"no-data\">No held-out validation in metrics.jsonl (the recipe has no heldOut, or validationEvery is 0).</p>"
        }
        let rows = [("held-out pass@1", "heldout_pass_at_1"), ("held-out \(run.passAtN)", "heldout_pass_at_n"),
                    ("held-out no-code rate", "heldout_no_code_rate")]
        var html = "<table class=\"before-after\"><thead><tr><th></th>"
        for (name, _) in runs { html += "<th colspan=\"3\">\(escapeMarkup(name))</th>" }
        html += "</tr><tr><th></th>"
        for (_, r) in runs {
            html += "<th>\(position(r.firstValidation))</th><th>\(position(r.lastValidation))</th><th>change</th>"
        }
        html += "</tr></thead><tbody>"
        for (label, key) in rows {
            html += "<tr><th>\(escapeMarkup(label))</th>"
            for (_, r) in runs {
                let before = r.firstValidation?[key], after = r.lastValidation?[key]
                html += "<td>\(percent(before))</td><td>\(percent(after))</td><td>\(change(before, after))</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// The same table as plain text, for the terminal at the end of `assay train`.
    func text() -> String {
        guard let first = run.firstValidation else { return "no held-out validation in metrics.jsonl\n" }
        let rows = [("held-out pass@1", "heldout_pass_at_1"), ("held-out \(run.passAtN)", "heldout_pass_at_n"),
                    ("held-out no-code rate", "heldout_no_code_rate")]
        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        let before = position(first), after = position(run.lastValidation)
        var out = pad("", 24) + pad(before, 18) + pad(after, 18) + "change\n"
        for (label, key) in rows {
            let b = first[key], a = run.lastValidation?[key]
            out += pad(label, 24) + pad(percent(b), 18) + pad(percent(a), 18) + change(b, a) + "\n"
        }
        return out
    }

    func position(_ line: MetricsLine?) -> String {
        guard let line else { return "after (none yet)" }
        return line.validationPosition == 0 ? "before training" : "after \(line.validationPosition) steps"
    }

    func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }

    /// In percentage points, signed.
    func change(_ before: Double?, _ after: Double?) -> String {
        guard let before, let after else { return "—" }
        return String(format: "%+.1f pts", (after - before) * 100)
    }
}
