import Foundation
import Rewards

/// The curation pipeline, cheapest steps first so the sandbox only sees what can survive:
///
/// 1. **parse** every `--in` file (any format `Rewards` reads) and every `--eval` file;
/// 2. **per-problem filters**: split assert scripts into one test per assert, remove duplicate
///    tests, drop empty or malformed statements, problems without a reference solution
///    (`no_reference`) and problems that already have fewer than `minTests` tests
///    (`too_few_tests`: verification can only remove tests, never add them);
/// 3. **decontamination** against the eval sets (`EvalIndex`: exact, near-duplicate, 13-gram);
/// 4. **dedup** across all inputs (`Deduplicator`), one problem kept per cluster;
/// 5. **verification** of the survivors only (`Verifier`, cached by `VerificationCache`):
///    `no_passing_reference`, or with `repairTests` the tests no reference passes are removed;
/// 6. **min-tests** again, after repair (`too_few_tests`).
public struct CurationPipeline: Sendable {
    public struct Input: Sendable {
        public var path: String
        public var format: DataFormat?
        public init(path: String, format: DataFormat? = nil) { self.path = path; self.format = format }
    }

    public var inputs: [Input]
    public var evalSets: [Input] = []
    public var minTests = 5
    public var repairTests = false
    public var jobs = 2
    public var dedup = Deduplicator()
    public var ngramSize = 13
    public var maxNgramDocuments = 10
    public var minSharedNgrams = 4

    public init(inputs: [Input]) { self.inputs = inputs }

    /// The kept problems (native, ready to write) and the report.
    public struct Outcome: Sendable {
        public var problems: [Problem]
        public var report: CurationReport
    }

    /// Progress of verification: (done, total).
    public typealias ProgressHandler = @Sendable (Int, Int) -> Void

    /// Loads one file; the format given is used only where detection fails.
    public static func load(_ input: Input) throws -> ProblemSet {
        do {
            return try ProblemLoader.load(path: input.path, format: nil)
        } catch let e as AdapterError where input.format != nil && e.message.hasPrefix("cannot tell") {
            return try ProblemLoader.load(path: input.path, format: input.format)
        }
    }

    /// `dir/name.jsonl.gz` → `name`.
    public static func sourceName(_ path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for ext in [".gz", ".jsonl", ".json"] where name.hasSuffix(ext) { name = String(name.dropLast(ext.count)) }
        return name
    }

    /// Parsing and the cheap filters (steps 1–4). `verifier` nil stops there: nothing runs.
    public func run(verifier: Verifier?, cache: VerificationCache?, settings: String = "", progress: ProgressHandler? = nil) throws -> Outcome {
        let started = Date()
        var report = CurationReport()
        var items: [CurationItem] = []
        var names = Set<String>()
        for (n, input) in inputs.enumerated() {
            let set = try Self.load(input)
            var name = Self.sourceName(input.path)
            while !names.insert(name).inserted { name += "#\(n)" }
            var src = CurationReport.Source(path: input.path, name: name, format: set.format.rawValue)
            src.loaded = set.problems.count
            src.warnings = set.warnings.count
            report.sources.append(src)
            for p in set.problems {
                items.append(CurationItem(problem: p, sourceIndex: n, sourceName: name, originalID: p.id, words: Text.words(p.statement ?? "")))
            }
        }
        var evalProblems: [(source: String, problem: Problem)] = []
        for input in evalSets {
            let set = try Self.load(input)
            report.evalSets.append((input.path, set.problems.count))
            evalProblems += set.problems.map { (Self.sourceName(input.path), $0) }
        }
        report.steps.append(.init(name: "parsed", remaining: items.count))

        func drop(_ it: CurationItem, _ r: DropReason) { report.sources[it.sourceIndex].dropped[r, default: 0] += 1 }

        // 2. Per-problem filters.
        var filtered: [CurationItem] = []
        for var it in items {
            if let split = Filters.splitTests(it.problem) {
                report.problemsSplit += 1
                report.testsBeforeSplit += it.problem.tests.count
                report.testsAfterSplit += split.count
                it.unsplitTests = it.problem.tests
                it.problem.tests = split
            }
            let (tests, dups) = Filters.removingDuplicateTests(it.problem.tests)
            report.duplicateTestsRemoved += dups
            it.problem.tests = tests
            if let r = Filters.statementProblem(it.problem.statement) { drop(it, r); continue }
            if it.problem.referenceSolutions.isEmpty { drop(it, .noReference); continue }
            if it.problem.tests.count < max(minTests, 1) { drop(it, .tooFewTests); continue }
            filtered.append(it)
        }
        report.steps.append(.init(name: "statement, reference and test-count filters", remaining: filtered.count))

        // 3. Decontamination.
        var clean: [CurationItem] = []
        if evalProblems.isEmpty {
            clean = filtered
        } else {
            let index = EvalIndex(evalProblems, ngramSize: ngramSize, threshold: dedup.threshold, maxNgramDocuments: maxNgramDocuments,
                                  minSharedNgrams: minSharedNgrams, background: items.map(\.words))
            for it in filtered {
                if let m = index.match(words: it.words) {
                    report.contaminated.append(.init(item: it.key, match: m))
                    drop(it, .contaminated)
                } else {
                    clean.append(it)
                }
            }
        }
        report.steps.append(.init(name: "decontamination", remaining: clean.count))

        // 4. Dedup.
        var removed = Set<Int>()
        for c in dedup.clusters(clean) {
            report.clusters.append(.init(kept: clean[c.kept].key, members: c.members.map { clean[$0].key },
                                         pairs: c.pairs.map { (clean[$0.a].key, clean[$0.b].key, $0.jaccard, $0.method) }))
            for m in c.members.dropFirst() { removed.insert(m); drop(clean[m], .duplicate) }
        }
        var survivors = clean.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        report.steps.append(.init(name: "dedup", remaining: survivors.count))

        guard let verifier else {
            report.totalSeconds = Date().timeIntervalSince(started)
            return Outcome(problems: [], report: report)
        }

        // 5. Verification.
        let t0 = Date()
        let counter = VerificationProgress(total: survivors.count, progress: progress)
        let results: [VerificationResult] = ParallelMap.run(survivors, jobs: jobs) { it in
            let key = VerificationCache.key(it, settings: settings)
            if let hit = cache?.lookup(key) { counter.tick(); return hit }
            let r = verifier.verify(it)
            cache?.store(key, id: it.key, r)
            counter.tick()
            return r
        }
        report.verifySeconds = Date().timeIntervalSince(t0)
        report.verified = results.count
        report.cacheHits = results.filter(\.cached).count

        var passing: [CurationItem] = []
        for (it0, r) in zip(survivors, results) {
            var it = it0
            if let m = r.materializedTests { it.problem.tests = m }
            switch r.status {
            case .error:
                report.errors.append((it.key, r.detail))
                drop(it, .error)
                continue
            case .failed where !repairTests:
                report.failures.append((it.key, r.detail))
                drop(it, r.passes.isEmpty ? .noReference : .noPassingReference)
                continue
            case .failed, .passed:
                break
            }
            if r.status == .failed {
                // Keep the tests some reference passes; then keep only references that pass all
                // of them. Where none does (two references passing different tests), keep the
                // tests of the reference that passes most.
                var keep = r.passedBySome
                var refs = r.passes.indices.filter { i in zip(r.passes[i], keep).allSatisfy { !$1 || $0 } }
                if refs.isEmpty, let best = r.passes.indices.max(by: { r.passes[$0].filter { $0 }.count < r.passes[$1].filter { $0 }.count }) {
                    keep = r.passes[best]
                    refs = r.passes.indices.filter { i in zip(r.passes[i], keep).allSatisfy { !$1 || $0 } }
                }
                let before = it.problem.tests.count
                it.problem.tests = zip(it.problem.tests, keep).filter(\.1).map(\.0)
                it.problem.referenceSolutions = refs.map { it.problem.referenceSolutions[$0] }
                it.unsplitTests = nil
                if it.problem.tests.isEmpty {
                    report.failures.append((it.key, r.detail))
                    drop(it, .noPassingReference)
                    continue
                }
                report.problemsRepaired += 1
                report.testsRepairedAway += before - it.problem.tests.count
            } else {
                // References that fail some test are not references of this problem.
                let refs = r.passes.indices.filter { r.passes[$0].allSatisfy { $0 } }
                it.problem.referenceSolutions = refs.map { it.problem.referenceSolutions[$0] }
            }
            passing.append(it)
        }
        report.steps.append(.init(name: "verification", remaining: passing.count))

        // 6. Min-tests after repair.
        survivors = []
        for it in passing {
            if it.problem.tests.count < max(minTests, 1) { drop(it, .tooFewTests) } else { survivors.append(it) }
        }
        report.steps.append(.init(name: "min-tests after repair", remaining: survivors.count))

        // Output ids: the file's own, with `source:` in front where two inputs share one.
        var idCount: [String: Int] = [:]
        for it in survivors { idCount[it.problem.id, default: 0] += 1 }
        var problems: [Problem] = []
        for it in survivors {
            var p = it.problem
            if idCount[p.id]! > 1 { p.id = it.key }
            problems.append(p)
            report.sources[it.sourceIndex].kept += 1
        }
        report.totalSeconds = Date().timeIntervalSince(started)
        return Outcome(problems: problems, report: report)
    }
}

/// Counts verified problems across the worker threads and reports each step to the handler.
final class VerificationProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    let total: Int
    let progress: CurationPipeline.ProgressHandler?
    init(total: Int, progress: CurationPipeline.ProgressHandler?) { self.total = total; self.progress = progress }
    func tick() {
        lock.lock(); done += 1; let d = done; lock.unlock()
        progress?(d, total)
    }
}
