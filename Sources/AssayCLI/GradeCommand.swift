import ArgumentParser
import Foundation
import Glibc
import Rewards
import Sandboxing

/// `assay grade`: rewards for model responses, DeepCoder's definition done right.
struct GradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Grade model responses against a problem set: reward 1 iff every sampled test passes.",
        discussion: """
            Responses are JSONL: {"problem_id": ..., "response": "...", "id": optional}. The solution is the last \
            closed fenced code block of each response (```cpp blocks are graded as C++). Writes one JSONL result per \
            response (to --out, or stdout) and a summary on stderr. With --out, responses already graded there are \
            skipped (resume); results with an error and a torn last line are dropped from the file and graded again, so \
            it keeps one complete line per response. Exit status 3 when some responses could not be graded (their result \
            has "error"); 141 when the reader of the results went away (e.g. `| head -1`): grading stops there.
            """)

    @Option(help: "Problem file: native JSONL or a data set (JSON/JSONL, .gz allowed).")
    var problems: String

    @Option(help: "Responses JSONL: {\"problem_id\", \"response\", \"id\"?} per line.")
    var responses: String

    @Option(help: "Results JSONL; resumes when it exists.")
    var out: String?

    @Option(help: "Responses graded at once (threads).")
    var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(name: .customLong("max-tests"), help: "Tests per problem, longest inputs first (default 15; HumanEval+/MBPP+ all; 0: all).")
    var maxTests: Int?

    @Option(help: "Checker for stdin/stdout tests: lcb (default), tolerance, tolerance:EPS, taco-lenient (accepts wrong answers: reference reproduction only), exact.")
    var checker: String?

    @Option(help: "Data set format when it cannot be detected: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String?

    @Option(name: .customLong("time-limit"), help: "CPU seconds per test, overriding the problems' own limits.")
    var timeLimit: Double?

    @Option(name: .customLong("memory-mb"), help: "Memory limit in MiB for problems that declare none.")
    var memoryMiB: Int = 1024

    @OptionGroup var executorOptions: ExecutorOptions

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256") }
        if let maxTests, maxTests < 0 { throw ValidationError("--max-tests must be 0 (all) or more") }
        if let checker, Checker(name: checker) == nil {
            throw ValidationError("unknown checker '\(checker)'; use one of \(Checker.names.joined(separator: ", "))")
        }
        if let format, DataFormat(rawValue: format) == nil {
            throw ValidationError("unknown format '\(format)'; use one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let timeLimit, !(timeLimit > 0 && timeLimit <= 600) { throw ValidationError("--time-limit must be in (0, 600] seconds") }
    }

    struct Item: Sendable {
        var line: Int
        var problemID: String
        var id: JSONValue?
        var response: String
        var key: String
    }

    func run() throws {
        let set: ProblemSet
        do { set = try ProblemLoader.load(path: problems, format: format.flatMap(DataFormat.init(rawValue:))) } catch let e as AdapterError {
            throw ValidationError(e.description)
        }
        for w in set.warnings.prefix(20) { log("warning: \(w)") }
        if set.warnings.count > 20 { log("warning: … and \(set.warnings.count - 20) more") }
        var byID: [String: Problem] = [:]
        for p in set.problems { byID[p.id] = p }

        var items = try readResponses(known: byID)
        let total = items.count
        var done = Set<String>()
        if let out, FileManager.default.fileExists(atPath: out) {
            done = try ResultsFile.resume(out)
            items.removeAll { done.contains($0.key) }
        }
        log("\(set.problems.count) problems (\(set.format.rawValue)), \(total) responses\(done.isEmpty ? "" : ", \(total - items.count) already graded in \(out!)")")
        if items.isEmpty { log("nothing to grade"); return }

        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let executor = try executorOptions.makeExecutor(sandbox: sandbox, catalog: catalog, concurrency: jobs)
        var options = GraderOptions()
        if let maxTests { options.maxTestsOverride = maxTests }
        options.checker = checker.flatMap(Checker.init(name:))
        options.timeLimitSeconds = timeLimit
        options.defaultMemoryLimitMiB = memoryMiB
        let grader = Grader(executor: executor, options: options)

        // Expected values that come from a reference solution (HumanEval+, MBPP+), once per problem.
        let needing = Array(Set(items.map(\.problemID))).sorted().filter { byID[$0]!.needsExpectedValues }
        var materialError: [String: String] = [:]
        if !needing.isEmpty {
            log("computing expected values of \(needing.count) problem(s) with their reference solutions")
            let snapshot = byID
            let results = ParallelMap.run(needing, jobs: jobs) { pid -> Result<Problem, SandboxError> in
                do throws(SandboxError) { return .success(try grader.materializingExpected(snapshot[pid]!)) } catch { return .failure(error) }
            }
            for (pid, r) in zip(needing, results) {
                switch r {
                case .success(let p): byID[pid] = p
                case .failure(let e): materialError[pid] = e.description
                }
            }
        }

        // A closed stdout must end the command through its normal exit (which removes the
        // sandbox's state), not kill it with SIGPIPE: writes then fail with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let output = try out.map { try LineWriter(appendingTo: $0) } ?? LineWriter(fd: STDOUT_FILENO)
        let progress = Progress(total: items.count)
        let problemsByID = byID
        let materialErrors = materialError
        let started = Date()
        let stats = ParallelMap.run(items, jobs: jobs) { item -> Summary in
            // Once results cannot be written, grading more would be wasted work.
            if output.error != 0 { return Summary() }
            let t0 = Date()
            let result: GradeResult
            if let e = materialErrors[item.problemID] {
                result = .failure("expected values could not be computed: \(e)")
            } else {
                result = grader.grade(problem: problemsByID[item.problemID]!, response: item.response)
            }
            let line = GradeCommand.resultLine(item, result, elapsed: Date().timeIntervalSince(t0))
            return progress.write(line, to: output, result: result) ? Summary(result) : Summary()
        }
        progress.finish()
        if output.error != 0 {
            let written = stats.reduce(0) { $0 + $1.graded }
            let reason = output.error == EPIPE ? "the reader of the results closed its end" : String(cString: strerror(output.error))
            log("stopped: results can no longer be written (\(reason)); \(written) result(s) were written, the other responses were not graded")
            // The status of a command whose reader went away (128 + SIGPIPE), without dying of it.
            throw ExitCode(output.error == EPIPE ? 141 : 1)
        }
        var summary = Summary()
        for s in stats { summary.add(s) }
        log(summary.report(seconds: Date().timeIntervalSince(started)))
        if summary.errors > 0 { throw ExitCode(3) }
    }

    // MARK: - Input

    func readResponses(known: [String: Problem]) throws -> [Item] {
        let bytes = try readBytes(responses, what: "responses file")
        var items: [Item] = []
        var keys = Set<String>()
        var lineNo = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            guard raw.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            func fail(_ field: String?, _ msg: String) -> ValidationError {
                ValidationError("\(responses): line \(lineNo)\(field.map { ", field '\($0)'" } ?? ""): \(msg)")
            }
            let v: JSONValue
            do { v = try JSONValue(parsing: raw) } catch { throw fail(nil, error.description) }
            guard case .object = v else { throw fail(nil, "must be a JSON object") }
            let pid: String
            switch v["problem_id"] {
            case .string(let s)?: pid = s
            case .int(let s)?: pid = s
            case nil: throw fail("problem_id", "missing")
            case let other?: throw fail("problem_id", "must be a string or an integer, got \(other.typeName)")
            }
            guard known[pid] != nil else {
                let sample = known.keys.sorted().prefix(3).joined(separator: ", ")
                throw fail("problem_id", "no problem '\(pid)' in \(problems) (ids look like: \(sample))")
            }
            guard let resp = v["response"] else { throw fail("response", "missing") }
            guard let text = resp.stringValue else { throw fail("response", "must be a string, got \(resp.typeName)") }
            var id: JSONValue?
            if let i = v["id"], !i.isNull {
                switch i { case .string, .int: id = i; default: throw fail("id", "must be a string or an integer") }
            }
            let key = ResultsFile.key(id: id, responseLine: lineNo)
            guard keys.insert(key).inserted else { throw fail("id", "duplicate id \(id!.jsonText)") }
            items.append(Item(line: lineNo, problemID: pid, id: id, response: text, key: key))
        }
        guard !items.isEmpty else { throw ValidationError("\(responses): no responses") }
        return items
    }

    static func resultLine(_ item: Item, _ r: GradeResult, elapsed: TimeInterval) -> String {
        var o: [(String, JSONValue)] = [("problem_id", .string(item.problemID))]
        if let id = item.id { o.append(("id", id)) }
        o.append(("response_line", .number(item.line)))
        o.append(("reward", r.reward.map { .number($0) } ?? .null))
        o.append(("reason", .string(r.reason)))
        if !r.detail.isEmpty { o.append(("detail", .string(r.detail))) }
        if let l = r.language { o.append(("language", .string(l.rawValue))) }
        o.append(("tests_selected", .number(r.testsSelected)))
        o.append(("tests", .array(r.tests.map { t in
            var e: [(String, JSONValue)] = [("index", .number(t.index)), ("verdict", .string(t.verdict.rawValue))]
            if let n = t.name { e.append(("name", .string(n))) }
            e.append(("cpu_ms", .double((t.cpuMilliseconds * 10).rounded() / 10)))
            e.append(("wall_ms", .double((t.wallMilliseconds * 10).rounded() / 10)))
            e.append(("memory_kb", .number(t.memoryBytes / 1024)))
            if !t.detail.isEmpty { e.append(("detail", .string(t.detail))) }
            return .object(e)
        })))
        if let err = r.error { o.append(("error", .string(err))) }
        o.append(("elapsed_ms", .double((elapsed * 10000).rounded() / 10)))
        return JSONValue.object(o).jsonText
    }

    func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}

// MARK: - Summary and progress

struct Summary: Sendable {
    var graded = 0, passed = 0, errors = 0, tests = 0
    var reasons: [String: Int] = [:]
    var verdicts: [String: Int] = [:]

    init() {}
    init(_ r: GradeResult) {
        graded = 1
        if r.reward == 1 { passed = 1 }
        if r.reward == nil { errors = 1 }
        tests = r.tests.count
        reasons[r.reason] = 1
        for t in r.tests { verdicts[t.verdict.rawValue, default: 0] += 1 }
    }

    mutating func add(_ s: Summary) {
        graded += s.graded; passed += s.passed; errors += s.errors; tests += s.tests
        reasons.merge(s.reasons, uniquingKeysWith: +)
        verdicts.merge(s.verdicts, uniquingKeysWith: +)
    }

    func report(seconds: Double) -> String {
        let scored = graded - errors
        let rate = scored > 0 ? Double(passed) / Double(scored) * 100 : 0
        var lines = [String(format: "graded %d responses: reward 1 for %d of %d scored (%.1f%%), %d error(s)", graded, passed, scored, rate, errors)]
        lines.append("reasons: " + reasons.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("test verdicts: " + TestVerdict.allCases.compactMap { v in verdicts[v.rawValue].map { "\(v.rawValue) \($0)" } }.joined(separator: ", "))
        lines.append(String(format: "throughput: %.2f responses/s, %.1f tests/s over %.1f s", Double(graded) / max(seconds, 1e-9), Double(tests) / max(seconds, 1e-9), seconds))
        return lines.joined(separator: "\n")
    }
}

/// Writes result lines under a lock and keeps the progress bar up to date.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private var done = 0, passed = 0
    private let bar = ProgressBar()

    init(total: Int) { self.total = total }

    /// Writes one result line; false when it could not be written (it is then not counted).
    func write(_ line: String, to output: LineWriter, result: GradeResult) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard output.write(line) else { return false }
        done += 1
        if result.reward == 1 { passed += 1 }
        bar.draw(done, of: total, note: "pass \(passed)")
        return true
    }

    func finish() { bar.finish() }
}
