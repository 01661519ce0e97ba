import Foundation
import Rewards

/// What a curation run did: counts per step, source and reason, clusters, contamination,
/// verification speed. Written as JSON (`json`) and as a Markdown summary (`markdown`).
public struct CurationReport: Sendable {
    public struct Source: Sendable {
        public var path: String
        public var name: String
        public var format: String
        public var loaded = 0
        public var kept = 0
        public var dropped: [DropReason: Int] = [:]
        public var warnings = 0
    }
    public struct Step: Sendable {
        public var name: String
        public var remaining: Int
    }
    public struct ClusterRecord: Sendable {
        public var kept: String
        public var members: [String]
        public var pairs: [(a: String, b: String, jaccard: Double, method: String)]
    }
    public struct ContaminationRecord: Sendable {
        public var item: String
        public var match: EvalIndex.Match
    }

    public var sources: [Source] = []
    public var evalSets: [(path: String, problems: Int)] = []
    public var steps: [Step] = []
    public var clusters: [ClusterRecord] = []
    public var contaminated: [ContaminationRecord] = []
    /// Problem key → message, for sandbox errors and for dropped problems' first failure.
    public var errors: [(item: String, message: String)] = []
    public var failures: [(item: String, detail: String)] = []
    public var problemsSplit = 0, testsBeforeSplit = 0, testsAfterSplit = 0
    public var duplicateTestsRemoved = 0
    public var testsRepairedAway = 0, problemsRepaired = 0
    public var verified = 0, cacheHits = 0
    public var verifySeconds = 0.0, totalSeconds = 0.0
    public var settings: [(String, String)] = []

    public init() {}

    /// Problems verified per second of verification wall time (cache hits not counted).
    public var verifiedPerSecond: Double { verifySeconds > 0 ? Double(verified - cacheHits) / verifySeconds : 0 }

    public var droppedTotal: [DropReason: Int] {
        var out: [DropReason: Int] = [:]
        for s in sources { out.merge(s.dropped, uniquingKeysWith: +) }
        return out
    }

    public var json: JSONValue {
        func reasons(_ d: [DropReason: Int]) -> JSONValue { .object(DropReason.allCases.compactMap { r in d[r].map { (r.rawValue, .number($0)) } }) }
        func round(_ x: Double, _ digits: Double = 1000) -> JSONValue { .double((x * digits).rounded() / digits) }
        var o: [(String, JSONValue)] = []
        o.append(("settings", .object(settings.map { ($0.0, .string($0.1)) })))
        o.append(("sources", .array(sources.map { s in
            .object([("path", .string(s.path)), ("name", .string(s.name)), ("format", .string(s.format)), ("loaded", .number(s.loaded)),
                     ("kept", .number(s.kept)), ("dropped", reasons(s.dropped)), ("loader_warnings", .number(s.warnings))])
        })))
        o.append(("eval_sets", .array(evalSets.map { .object([("path", .string($0.path)), ("problems", .number($0.problems))]) })))
        o.append(("steps", .array(steps.map { .object([("step", .string($0.name)), ("remaining", .number($0.remaining))]) })))
        o.append(("dropped", reasons(droppedTotal)))
        o.append(("tests", .object([
            ("problems_split", .number(problemsSplit)), ("tests_before_split", .number(testsBeforeSplit)),
            ("tests_after_split", .number(testsAfterSplit)), ("duplicate_tests_removed", .number(duplicateTestsRemoved)),
            ("problems_repaired", .number(problemsRepaired)), ("tests_repaired_away", .number(testsRepairedAway)),
        ])))
        o.append(("verification", .object([
            ("verified", .number(verified)), ("cache_hits", .number(cacheHits)), ("run", .number(verified - cacheHits)),
            ("seconds", round(verifySeconds)), ("problems_per_second", round(verifiedPerSecond)),
        ])))
        o.append(("total_seconds", round(totalSeconds)))
        o.append(("clusters", .array(clusters.map { c in
            .object([("kept", .string(c.kept)), ("members", .array(c.members.map { .string($0) })),
                     ("pairs", .array(c.pairs.map { .object([("a", .string($0.a)), ("b", .string($0.b)), ("jaccard", round($0.jaccard)), ("method", .string($0.method))]) }))])
        })))
        o.append(("contaminated", .array(contaminated.map { c in
            var e: [(String, JSONValue)] = [("item", .string(c.item)), ("eval_source", .string(c.match.eval.source)), ("eval_id", .string(c.match.eval.id)),
                                            ("method", .string(c.match.method)), ("jaccard", round(c.match.jaccard))]
            if let g = c.match.ngram { e.append(("ngram", .string(g))); e.append(("shared_ngrams", .number(c.match.sharedNgrams))) }
            return .object(e)
        })))
        o.append(("errors", .array(errors.map { .object([("item", .string($0.item)), ("message", .string($0.message))]) })))
        o.append(("verification_failures", .array(failures.map { .object([("item", .string($0.item)), ("detail", .string($0.detail))]) })))
        return .object(o)
    }

    public var markdown: String {
        var md = "# assay curate report\n\n"
        md += "| step | problems left |\n|---|---:|\n"
        for s in steps { md += "| \(s.name) | \(s.remaining) |\n" }
        let used = DropReason.allCases.filter { r in sources.contains { $0.dropped[r] != nil } }
        md += "\n## Sources\n\n| source | format | in | out | " + used.map(\.rawValue).joined(separator: " | ") + " |\n"
        md += "|---|---|---:|---:|" + used.map { _ in "---:|" }.joined() + "\n"
        for s in sources {
            md += "| \(s.name) | \(s.format) | \(s.loaded) | \(s.kept) | " + used.map { "\(s.dropped[$0] ?? 0)" }.joined(separator: " | ") + " |\n"
        }
        let total = droppedTotal
        md += "| **all** | | \(sources.map(\.loaded).reduce(0, +)) | \(sources.map(\.kept).reduce(0, +)) | " + used.map { "\(total[$0] ?? 0)" }.joined(separator: " | ") + " |\n"
        md += "\n## Tests\n\n"
        md += "- \(problemsSplit) problems had assert scripts split: \(testsBeforeSplit) tests became \(testsAfterSplit)\n"
        md += "- \(duplicateTestsRemoved) duplicate tests removed\n"
        md += "- \(testsRepairedAway) tests that no reference passes removed from \(problemsRepaired) problems (--repair-tests)\n"
        md += "\n## Verification\n\n"
        md += String(format: "- %d problems verified, %d from the cache, %d run in %.1f s: %.2f problems/s\n", verified, cacheHits, verified - cacheHits, verifySeconds, verifiedPerSecond)
        md += String(format: "- total time %.1f s\n", totalSeconds)
        if !errors.isEmpty { md += "- **\(errors.count) sandbox errors** (not in the output; rerun to retry)\n" }
        md += "\n## Duplicate clusters (\(clusters.count))\n\n"
        if !clusters.isEmpty {
            md += "| kept | also in the cluster | Jaccard (min) |\n|---|---|---:|\n"
            for c in clusters.prefix(200) {
                let minJ = c.pairs.map(\.jaccard).min() ?? 1
                md += "| \(cell(c.kept)) | \(cell(c.members.dropFirst().joined(separator: ", "))) | \(String(format: "%.2f", minJ)) |\n"
            }
            if clusters.count > 200 { md += "\n… \(clusters.count - 200) more in the JSON report\n" }
        }
        md += "\n## Contaminated (\(contaminated.count))\n\n"
        if !contaminated.isEmpty {
            md += "| problem | eval match | method | Jaccard | shared n-gram |\n|---|---|---|---:|---|\n"
            for c in contaminated.prefix(200) {
                md += "| \(cell(c.item)) | \(cell(c.match.eval.source + ":" + c.match.eval.id)) | \(c.match.method) | \(String(format: "%.2f", c.match.jaccard)) | \(cell(c.match.ngram ?? "")) |\n"
            }
            if contaminated.count > 200 { md += "\n… \(contaminated.count - 200) more in the JSON report\n" }
        }
        if !settings.isEmpty {
            md += "\n## Settings\n\n" + settings.map { "- \($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        }
        return md
    }

    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
}
