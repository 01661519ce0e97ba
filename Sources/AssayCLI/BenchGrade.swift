import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Rewards
import Sandboxing
import Synchronization

/// Grading throughput: the warm fast path, the cold sandbox path, and the reference style that
/// DeepCoder's TACO harness uses (one unsandboxed `python3` process per test, importing the
/// preamble every time), all on the same tests in the same run.
struct BenchGrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Tests/s and submissions/s of the warm fast path vs the reference style (one python3 per test).")

    @Option(help: "HumanEval+ file (default: ../shared/code-data/humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz beside the checkout).")
    var humanevalplus: String?

    @Option(help: "HumanEval+ problems to grade (their canonical solutions).")
    var problems = 40

    @Option(help: "Inputs per HumanEval+ problem (base first, then plus); 0: all.")
    var inputs = 0

    @Option(help: "Submissions in the stdin workload (15 tests each).")
    var stdinSubmissions = 40

    @Option(help: "Submissions in the few-tests stdin workload (1, 2 or 3 tests each, as LiveCodeBench problems often have).")
    var fewTestsSubmissions = 120

    @Option(help: "Submissions graded at once (threads).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Tests run the reference style per workload (a sample: it is slow).")
    var referenceTests = 150

    @OptionGroup var sandboxOptions: SandboxOptions

    func run() throws {
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let warm = Grader(executor: try WarmPythonExecutor(sandbox: sandbox, catalog: catalog))
        let cold = Grader(executor: try SandboxExecutor(sandbox: sandbox, catalog: catalog))

        print("assay bench grade: \(jobs) submissions at once; reference style = one unsandboxed /usr/bin/python3 per test with the preamble imports")
        print("")
        print("workload                    variant                          tests   subs   tests/s   subs/s   vs reference")
        let heplus = try humanEvalPlusWorkload(warm)
        try report(heplus, warm: warm, cold: cold)
        try report(stdinWorkload(submissions: stdinSubmissions, tests: { _ in 15 }), warm: warm, cold: cold)
        try report(stdinWorkload(submissions: fewTestsSubmissions, tests: { 1 + $0 % 3 }), warm: warm, cold: cold)
    }

    struct Workload {
        var name: String
        var problems: [Problem]
        /// The solution graded for each problem (every one is correct: reward 1 expected).
        var solutions: [String]
    }

    func report(_ w: Workload, warm: Grader, cold: Grader) throws {
        let testCount = w.problems.reduce(0) { $0 + $1.tests.count }
        let reference = try referenceThroughput(w)
        let coldRun = try grade(w, with: cold)
        let warmRun = try grade(w, with: warm)
        func line(_ variant: String, _ tests: Int, _ subs: Int, _ seconds: Double) {
            let tps = Double(tests) / seconds
            print(w.name.padding(toLength: 27, withPad: " ", startingAt: 0), variant.padding(toLength: 32, withPad: " ", startingAt: 0),
                  String(format: "%6d %6d %9.1f %8.2f %10.1fx", tests, subs, tps, Double(subs) / seconds, tps / reference.testsPerSecond))
        }
        line("reference style (sample)", reference.tests, 0, reference.seconds)
        line("assay cold sandbox", testCount, w.problems.count, coldRun)
        line("assay zygote (warm)", testCount, w.problems.count, warmRun)
    }

    /// Grades every solution; all must get reward 1 (a benchmark of wrong answers measures nothing).
    func grade(_ w: Workload, with grader: Grader) throws -> Double {
        let failures = Mutex<[String]>([])
        let start = monotonicMilliseconds()
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, jobs)) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < w.problems.count else { return }
                let r = grader.grade(problem: w.problems[i], code: w.solutions[i], language: .python)
                if r.reward != 1 { failures.withLock { $0.append("\(w.problems[i].id): \(r.reason) \(r.detail.prefix(200))") } }
            }
        }
        let seconds = (monotonicMilliseconds() - start) / 1000
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else {
            throw ValidationError("\(failed.count) reference solutions did not pass in \(w.name): \(failed.prefix(3).joined(separator: "; "))")
        }
        return seconds
    }

    // MARK: - Workloads

    func humanEvalPlusWorkload(_ grader: Grader) throws -> Workload {
        let path = humanevalplus ?? defaultHumanEvalPlusPath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("HumanEval+ data not found at \(path); pass --humanevalplus FILE")
        }
        var set = try ProblemLoader.load(path: path, format: .humanevalplus)
        set.problems = Array(set.problems.prefix(problems))
        if inputs > 0 { for i in set.problems.indices { set.problems[i].tests = Array(set.problems[i].tests.prefix(inputs)) } }
        var ready: [Problem] = []
        for problem in set.problems {
            var p = try grader.materializingExpected(problem)
            p.maxTests = 0  // every input, as EvalPlus does
            ready.append(p)
        }
        let solutions = ready.map { Grader.solutionText(problem: $0, code: $0.referenceSolutions[0]) }
        return Workload(name: "HumanEval+ (\(ready.count) problems)", problems: ready, solutions: solutions)
    }

    func defaultHumanEvalPlusPath() -> String {
        URL(fileURLWithPath: sandboxOptions.profilesDirectory).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/code-data/humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz").path
    }

    /// A stdin/stdout problem in the LiveCodeBench style: n numbers in, their sorted prefix sums out.
    /// - Parameter tests: how many tests submission `s` has.
    func stdinWorkload(submissions: Int, tests testCount: (Int) -> Int) -> Workload {
        var rng = SystemRandomNumberGenerator()
        let solution = """
            import sys
            data = sys.stdin.read().split()
            n = int(data[0])
            xs = sorted(map(int, data[1:1 + n]))
            total, out = 0, []
            for x in xs:
                total += x
                out.append(total)
            print(*out)
            """
        var problems: [Problem] = []
        for s in 0..<submissions {
            var tests: [TestCase] = []
            for t in 0..<testCount(s) {
                let n = 1 + (t * 37 + s) % 200
                let xs = (0..<n).map { _ in Int.random(in: -1000...1000, using: &rng) }
                var total = 0
                let sums = xs.sorted().map { total += $0; return total }
                tests.append(.stdio("\(n)\n" + xs.map(String.init).joined(separator: " ") + "\n",
                                    sums.map(String.init).joined(separator: " ") + "\n"))
            }
            problems.append(Problem(id: "prefix-\(s)", source: "bench", tests: tests))
        }
        let counts = Set(problems.map(\.tests.count)).sorted().map(String.init).joined(separator: "-")
        return Workload(name: "stdin (\(problems.count)×\(counts) tests)", problems: problems,
                        solutions: Array(repeating: solution, count: problems.count))
    }

    // MARK: - Reference style

    /// One bare `/usr/bin/python3` per test, preamble imported each time, as DeepCoder's TACO
    /// harness runs tests (no sandbox at all). A sample of the workload's tests, `jobs` at once.
    func referenceThroughput(_ w: Workload) throws -> (tests: Int, seconds: Double, testsPerSecond: Double) {
        let imports = PythonHarness.preamble.map { "try:\n    \($0)\nexcept Exception:\n    pass\n" }.joined()
        var programs: [(source: String, stdin: String)] = []
        var k = 0
        while programs.count < referenceTests, !w.problems.isEmpty {
            let p = w.problems[k % w.problems.count], test = p.tests[(k / w.problems.count) % p.tests.count]
            let solution = (p.setupCode.map { $0 + "\n" } ?? "") + w.solutions[k % w.problems.count]
            switch test.kind {
            case .stdio(let input, _):
                programs.append((imports + solution, input))
            case .call(_, let args, _):
                let name = p.entryPoint ?? "f"
                let call = "\nimport json\nprint(repr(\(name)(*json.loads(\(pythonString(JSONValue.array(args).jsonText))))))\n"
                programs.append((imports + solution + call, ""))
            case .script(let script):
                programs.append((imports + solution + "\n" + script, ""))
            }
            k += 1
        }
        let runs = programs
        let next = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let start = monotonicMilliseconds()
        DispatchQueue.concurrentPerform(iterations: max(1, jobs)) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < runs.count else { return }
                if !runBare(["/usr/bin/python3", "-c", runs[i].source], stdin: runs[i].stdin) {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        let seconds = (monotonicMilliseconds() - start) / 1000
        guard failures.load(ordering: .relaxed) == 0 else {
            throw ValidationError("\(failures.load(ordering: .relaxed)) reference-style runs failed in \(w.name)")
        }
        return (programs.count, seconds, Double(programs.count) / seconds)
    }

    func pythonString(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n") + "'"
    }
}

private let spawnLock = Mutex(())

/// Runs `argv` bare (no sandbox) with `stdin` on a pipe, stdout discarded; true on exit 0.
func runBare(_ argv: [String], stdin: String) -> Bool {
    var input: [Int32] = [0, 0]
    // Runs happen on several threads at once. The pipe is made close-on-exec under the same lock
    // as the spawn, so no other run's child can inherit its ends (and keep its stdin open forever).
    let made = spawnLock.withLock { _ -> Bool in
        guard pipe(&input) == 0 else { return false }
        _ = fcntl(input[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(input[1], F_SETFD, FD_CLOEXEC)
        return true
    }
    guard made else { return false }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input[0], 0)
    posix_spawn_file_actions_addclose(&actions, input[1])
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let cargs = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = spawnLock.withLock { _ in posix_spawn(&pid, argv[0], &actions, nil, cargs, environ) }
    close(input[0])
    let bytes = Array(stdin.utf8)
    var done = 0
    while rc == 0, done < bytes.count {
        let n = bytes.withUnsafeBytes { write(input[1], $0.baseAddress! + done, $0.count - done) }
        if n <= 0 { break }
        done += n
    }
    close(input[1])
    guard rc == 0 else { return false }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status == 0
}
