import ArgumentParser
import Curation
import Foundation
import Glibc
import Rewards
import Sandboxing

/// `assay curate`: a training set of problems whose reference solutions pass their tests,
/// deduplicated and decontaminated.
struct CurateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curate",
        abstract: "Curate problem sets: verify reference solutions, filter, dedup, decontaminate.",
        discussion: """
            Steps, cheapest first: parse; split assert scripts into one test per assert, remove duplicate tests, drop \
            empty/malformed statements, problems without reference solutions and with fewer than --min-tests tests; \
            decontaminate against --eval (exact, MinHash Jaccard >= 0.8, 4 or more shared word 13-grams); dedup across inputs (exact and \
            MinHash Jaccard >= 0.8; keeps most tests, then the earlier --in, then the smaller id); run every reference \
            solution against every test in the sandbox (cached in --cache); --min-tests again after --repair-tests. \
            Writes native JSONL (with reference solutions) to --out and REPORT.json + REPORT.md. Exit status 3 when some \
            problems could not be verified because the sandbox failed (rerun to retry them).
            """)

    @Option(name: .customLong("in"), help: "Problem file in any format assay reads (.gz allowed); repeat for several.")
    var inputs: [String] = []

    @Option(help: "Output: native JSONL of the kept problems.")
    var out: String?

    @Option(name: .customLong("eval"), help: "Evaluation set to decontaminate against; repeat for several.")
    var evals: [String] = []

    @Option(name: .customLong("min-tests"), parsing: .unconditional, help: "Minimum tests per problem, after --repair-tests.")
    var minTests = 5

    @Option(help: "Report base name: writes REPORT.json and REPORT.md (an extension .json/.md is dropped). Default: OUT without .jsonl, plus .report.")
    var report: String?

    @Flag(name: .customLong("repair-tests"), help: "Drop the tests no reference passes instead of the problem.")
    var repairTests = false

    @Option(help: "Problems verified at once (threads).")
    var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(help: "Format of --in/--eval files whose format cannot be detected: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String?

    @Option(help: "Verification cache (JSONL, appended as it goes). Default: OUT.verify-cache.jsonl.")
    var cache: String?

    @Option(name: .customLong("verify-runs"), help: "Runs per reference solution; a test passes only if it passed every run (2+ catches references whose answer depends on chance).")
    var verifyRuns = 1

    @OptionGroup var executorOptions: ExecutorOptions

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("no --in file: pass one or more problem files, e.g. --in humaneval/HumanEval.jsonl.gz") }
        guard let out else { throw ValidationError("no --out: pass the output file, e.g. --out curated.jsonl") }
        guard minTests >= 0 else { throw ValidationError("--min-tests must be 0 or more, got \(minTests)") }
        guard (1...10).contains(verifyRuns) else { throw ValidationError("--verify-runs must be between 1 and 10, got \(verifyRuns)") }
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
        if let format, DataFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)'; use one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (flag, paths) in [("--in", inputs), ("--eval", evals)] {
            for p in paths where !FileManager.default.isReadableFile(atPath: p) {
                throw ValidationError("\(flag) '\(p)': no such file or not readable; check the path")
            }
        }
        for (flag, path) in [("--out", out), ("--report", report ?? out), ("--cache", cache ?? out)] {
            let dir = (path as NSString).deletingLastPathComponent
            var isDir: ObjCBool = false
            if !dir.isEmpty, !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
                throw ValidationError("\(flag) '\(path)': the directory '\(dir)' does not exist; create it first (mkdir -p \(dir))")
            }
        }
        if inputs.contains(out) { throw ValidationError("--out '\(out)' is also an --in file; write the output elsewhere") }
    }

    var outPath: String { out! }
    var reportBase: String {
        var base = report ?? (outPath.hasSuffix(".jsonl") ? String(outPath.dropLast(6)) : outPath) + ".report"
        for ext in [".json", ".md"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
        return base
    }
    var cachePath: String { cache ?? outPath + ".verify-cache.jsonl" }

    func run() throws {
        let fmt = format.flatMap(DataFormat.init(rawValue:))
        var pipeline = CurationPipeline(inputs: inputs.map { .init(path: $0, format: fmt) })
        pipeline.evalSets = evals.map { .init(path: $0, format: fmt) }
        pipeline.minTests = minTests
        pipeline.repairTests = repairTests
        pipeline.jobs = jobs

        let verifyCache: VerificationCache
        do { verifyCache = try VerificationCache(path: cachePath) } catch let e as CurationError { throw ValidationError(e.description) }
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let exec = try executorOptions.makeExecutor(sandbox: sandbox, catalog: catalog, concurrency: jobs)
        let options = GraderOptions()
        let verifier = Verifier(executor: exec, options: options, runs: verifyRuns)
        // Part of every cache key: a result verified under other settings is verified again.
        var settings = "executor=\(executorOptions.executor) time=\(options.defaultTimeLimitSeconds) memory=\(options.defaultMemoryLimitMiB)"
        if verifyRuns > 1 { settings += " runs=\(verifyRuns)" }
        let bar = ProgressBar(label: "verifying")
        log("verification cache: \(cachePath) (\(verifyCache.count) results)")

        let outcome: CurationPipeline.Outcome
        do {
            outcome = try pipeline.run(verifier: verifier, cache: verifyCache, settings: settings) { done, total in bar.draw(done, of: total) }
        } catch let e as AdapterError {
            throw ValidationError(e.description)
        }
        bar.finish()
        var report = outcome.report
        report.settings = [("min_tests", "\(minTests)"), ("repair_tests", "\(repairTests)"), ("verify_runs", "\(verifyRuns)"),
                           ("jobs", "\(jobs)"), ("executor", executorOptions.executor),
                           ("dedup", "exact normalised statement, or word-5-shingle Jaccard >= 0.8 (MinHash 128 permutations, 32 bands x 4 rows, confirmed exactly)"),
                           ("decontamination", "exact, Jaccard >= 0.8, or \(pipeline.minSharedNgrams)+ shared word \(pipeline.ngramSize)-grams "
                                + "(n-grams in more than \(pipeline.maxNgramDocuments) statements, training and eval, ignored)"),
                           ("cache", cachePath)]

        var text = outcome.problems.map(NativeWriter.line).joined(separator: "\n")
        if !text.isEmpty { text += "\n" }
        try write(text, to: outPath)
        try write(report.json.jsonText + "\n", to: reportBase + ".json")
        try write(report.markdown, to: reportBase + ".md")

        for s in report.steps { log(String(format: "%-46@ %d", s.name as NSString, s.remaining)) }
        log(String(format: "verified %d problems (%d from the cache) in %.1f s: %.2f problems/s; %d clusters, %d contaminated",
                   report.verified, report.cacheHits, report.verifySeconds, report.verifiedPerSecond, report.clusters.count, report.contaminated.count))
        log("wrote \(outcome.problems.count) problems to \(outPath); report \(reportBase).json and \(reportBase).md")
        if !report.errors.isEmpty {
            log("error: \(report.errors.count) problem(s) could not be verified because the sandbox failed (first: \(report.errors[0].item): \(report.errors[0].message)); they are not in the output; rerun to retry them")
            throw ExitCode(3)
        }
    }

    func write(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("cannot write '\(path)': \(error.localizedDescription); check the directory and permissions")
        }
    }

    func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
