import ArgumentParser
import Foundation
import Glibc
import GradingServer
import Rewards
import Sandboxing
import Synchronization

/// `assay bench serve`: the daemon under concurrent clients, against the same sandbox runs
/// called directly (no HTTP) in the same process and run.
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Requests/s and p50/p99 latency of /run_code (python print(1), C++ a+b) and /v1/grade (a Python submission, 5 stdin tests) against the same work called directly; then a burst of /run_code time-outs mixed with print(1) under both /run_code capacity policies.")

    @Option(help: "Concurrent HTTP clients (each with its own keep-alive connection).")
    var clients = 16

    @Option(help: "Requests per client and workload.")
    var requests = 10

    @Option(help: "Server workers (default: the machine's cores).")
    var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(help: "CPU-bound time-outs (`while True: pass`) in the /run_code burst.")
    var burst = 48

    @Option(name: .customLong("burst-print"), help: "`print(1)` requests mixed into the burst.")
    var burstPrint = 16

    @Option(name: .customLong("burst-timeout"), help: "run_timeout of every request in the burst, in seconds (verl sends 10).")
    var burstTimeout = 10.0

    @Flag(name: .customLong("burst-only"), help: "Run only the burst.")
    var burstOnly = false

    @Option(name: .customLong("sandboxfusion-port"),
            help: "Port of a SandboxFusion server on 127.0.0.1 to measure in the same run: its /run_code python print(1) with one client and with --clients, next to assay's.")
    var sandboxFusionPort: Int?

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        if let port = sandboxFusionPort, !(1...65535).contains(port) { throw ValidationError("--sandboxfusion-port must be a TCP port (1-65535)") }
        guard burst >= 0, burstPrint >= 0, burst + burstPrint <= 4096 else { throw ValidationError("--burst and --burst-print must be at least 0, together at most 4096") }
        guard (0.1...60).contains(burstTimeout) else { throw ValidationError("--burst-timeout must be between 0.1 and 60 seconds") }
    }

    /// One kind of request: its HTTP form, the same work called directly (throws on a wrong
    /// result), and how to tell a right HTTP answer.
    struct Workload {
        var name: String
        var path: String
        var body: String
        var direct: @Sendable () throws -> Void
        var answered: @Sendable (JSONValue) -> Bool
    }

    static func runCode(_ name: String, _ backend: SandboxBackend, _ run: CodeRun, body: String, expected: String) -> Workload {
        Workload(name: name, path: "/run_code", body: body, direct: {
            let outcome = try backend.runCode(run)
            guard outcome.run?.stdoutText == expected else { throw ValidationError("\(name): unexpected output \(outcome.run?.stdoutText ?? "nil")") }
        }, answered: { $0["run_result"]?["stdout"]?.stringValue == expected })
    }

    /// A Python submission (sum of a line of numbers) graded on 5 stdin tests: the batch path
    /// an RL run calls, on the server's executor or on the one named.
    static func grade(_ name: String, _ executor: any SubmissionExecutor) -> Workload {
        let code = "print(sum(map(int, input().split())))"
        let tests = (1...5).map { n in TestCase.stdio((1...n).map(String.init).joined(separator: " ") + "\n", "\(n * (n + 1) / 2)\n") }
        let problem = Problem(id: "bench-sum", source: "native", tests: tests)
        let wireTests = tests.compactMap { t -> String? in
            guard case .stdio(let input, let output) = t.kind else { return nil }
            return #"{"stdin": \#(JSONValue.string(input).jsonText), "stdout": \#(JSONValue.string(output).jsonText)}"#
        }
        let body = #"{"items": [{"problem": {"tests": [\#(wireTests.joined(separator: ", "))]}, "code": \#(JSONValue.string(code).jsonText)}]}"#
        let grader = Grader(executor: executor)
        return Workload(name: name, path: "/v1/grade", body: body, direct: {
            let r = grader.grade(problem: problem, code: code, language: .python)
            guard r.reward == 1 else { throw ValidationError("\(name): reward \(r.reward.map(String.init) ?? "none"): \(r.reason) \(r.detail)") }
        }, answered: { $0["results"]?.arrayValue?.first?["reward"] == 1 })
    }

    func run() async throws {
        let sandbox = try sandboxOptions.makeSandbox()
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let backend = try SandboxBackend(sandbox: sandbox, catalog: catalog)
        if burstOnly {
            try await burstComparison(backend: backend)
            return
        }
        var config = ServerConfiguration(backend: backend)
        config.workers = workers
        config.quiet = true
        let server = try await InProcessServer.start(config)
        let bound = server.port

        // The same /run_code python on a fresh interpreter per request (no zygote), called directly.
        let coldBackend = try SandboxBackend(sandbox: sandbox, catalog: catalog,
                                             submissionExecutor: try SandboxExecutor(sandbox: sandbox, catalog: catalog))
        let cpp = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << \"\\n\"; }\n"
        let workloads = [
            Self.runCode("python print(1)", backend, CodeRun(language: .python, code: "print(1)"),
                         body: #"{"code": "print(1)", "language": "python"}"#, expected: "1\n"),
            Self.runCode("cpp a+b", backend, CodeRun(language: .cpp, code: cpp, stdin: Array("1 2\n".utf8)),
                         body: #"{"code": \#(JSONValue.string(cpp).jsonText), "stdin": "1 2\n", "language": "cpp"}"#, expected: "3\n"),
            Self.grade("grade 5 tests", backend.submissionExecutor),
        ]
        // The cold executor (a box per test), called directly: what /v1/grade cost before the
        // server graded on the warm one, measured in this run.
        let cold = Self.grade("grade 5 tests", try SandboxExecutor(sandbox: sandbox, catalog: catalog))
        let total = clients * requests
        print("assay bench serve: \(workers) workers; \(total) requests per workload; latency in ms")
        print("baseline: the same work called directly on \(workers) threads, no HTTP (the server's own capacity): SandboxBackend.runCode,")
        print("          and for grading the server's executor (warm) and the cold one (a fresh box per test)")
        print("")
        print("workload          variant                      req/s       p50       p99")
        var rss = [ProcessMemory.residentBytes]
        var ours: [String: (samples: Samples, seconds: Double)] = [:]
        var theirs: (samples: Samples, seconds: Double)?
        for w in workloads {
            let direct = Self.timed(w.direct)
            // Warm-up (not counted): compiles and caches the C++ artefact, fills the slot and
            // network-namespace pools, pages the interpreter in.
            _ = try await Self.onThreads(workers, perThread: 8, setup: {}) { _ in try direct() }
            row(w.name, "direct (\(workers) threads)", try await Self.onThreads(workers, perThread: (total + workers - 1) / workers, setup: {}) { _ in try direct() })
            // One client alone gives the latency of a single request with nothing queued.
            for concurrency in Set([1, workers, clients]).sorted() {
                let http = try await Self.overHTTP(w, port: bound, concurrency: concurrency, total: total)
                row(w.name, "HTTP (\(concurrency) clients)", http)
                if concurrency == clients, w.path == "/run_code" { ours[w.name] = http }
            }
            // The baseline again after the HTTP runs: the spread of the two is the machine's noise.
            row(w.name, "direct again", try await Self.onThreads(workers, perThread: (total + workers - 1) / workers, setup: {}) { _ in try direct() })
            if let port = sandboxFusionPort, w.name == "python print(1)" {
                // The same requests to SandboxFusion, right after assay's, from the same clients.
                _ = try await Self.overHTTP(w, port: port, concurrency: 2, total: 16)
                for concurrency in Set([1, clients]).sorted() {
                    let http = try await Self.overHTTP(w, port: port, concurrency: concurrency, total: total)
                    row(w.name, "SandboxFusion (\(concurrency) cl)", http)
                    if concurrency == clients { theirs = http }
                }
            }
            rss.append(ProcessMemory.residentBytes)
        }
        let coldRun = Self.timed(Self.runCode("python print(1)", coldBackend, CodeRun(language: .python, code: "print(1)"),
                                              body: "", expected: "1\n").direct)
        _ = try await Self.onThreads(workers, perThread: 2, setup: {}) { _ in try coldRun() }
        row("python print(1)", "direct, no zygote", try await Self.onThreads(workers, perThread: (total + workers - 1) / workers, setup: {}) { _ in try coldRun() })
        row("python print(1)", "direct, no zygote, 1 thr", try await Self.onThreads(1, perThread: min(total, 100), setup: {}) { _ in try coldRun() })
        // A box per test is slow: 12 submissions per thread are enough for its median.
        let coldDirect = Self.timed(cold.direct)
        _ = try await Self.onThreads(workers, perThread: 1, setup: {}) { _ in try coldDirect() }
        row(cold.name, "direct, cold executor", try await Self.onThreads(workers, perThread: min(12, (total + workers - 1) / workers), setup: {}) { _ in try coldDirect() })
        try await server.stop()
        if let theirs, let mine = ours["python print(1)"] {
            let a = Double(mine.samples.values.count) / mine.seconds, b = Double(theirs.samples.values.count) / theirs.seconds
            print("")
            print(String(format: "/run_code python print(1) at %d clients: assay %.1f req/s, SandboxFusion %.1f req/s (assay/SandboxFusion %.2fx)",
                         clients, a, b, a / b))
        }
        // The server runs in this process: its memory must not grow with the requests served.
        print("")
        print("process memory (server and clients), RSS in MiB: before the runs, then after each workload: "
              + rss.map { String(format: "%.1f", Double($0) / 1048576) }.joined(separator: ", ")
              + String(format: "; peak %.1f", Double(ProcessMemory.peakResidentBytes) / 1048576))
        if burst + burstPrint > 0 {
            print("")
            try await burstComparison(backend: backend)
        }
    }

    /// `total` requests of `w` over HTTP from `concurrency` clients (a keep-alive connection
    /// each) to the server on 127.0.0.1:`port`; every answer is checked.
    static func overHTTP(_ w: Workload, port: Int, concurrency: Int, total: Int) async throws -> (samples: Samples, seconds: Double) {
        try await onThreads(concurrency, perThread: max(1, total / concurrency), setup: { try LoopbackHTTPConnection(port: port) }) { conn in
            let start = monotonicMilliseconds()
            let (status, body) = try conn.post(w.path, body: Array(w.body.utf8))
            let ms = monotonicMilliseconds() - start
            guard status == 200, let json = try? JSONValue(parsing: body[...]), w.answered(json) else {
                throw ValidationError("\(w.name) on port \(port): HTTP \(status): \(String(decoding: body, as: UTF8.self).prefix(300))")
            }
            return ms
        }
    }

    /// `body` as a timed sample: its wall time in milliseconds.
    static func timed(_ body: @escaping @Sendable () throws -> Void) -> @Sendable () throws -> Double {
        {
            let start = monotonicMilliseconds()
            try body()
            return monotonicMilliseconds() - start
        }
    }

    func row(_ workload: String, _ variant: String, _ r: (samples: Samples, seconds: Double)) {
        let rps = Double(r.samples.values.count) / r.seconds
        print(workload.padding(toLength: 18, withPad: " ", startingAt: 0) + variant.padding(toLength: 26, withPad: " ", startingAt: 0)
              + String(format: "%8.1f %9.1f %9.1f", rps, r.samples.median, r.samples.percentile(99)))
    }

    /// Runs `body` `perThread` times on each of `threads` dedicated threads (blocking work never
    /// runs on Swift's cooperative pool); returns the latencies and the wall time of the whole.
    static func onThreads<State>(_ threads: Int, perThread: Int, setup: @escaping @Sendable () throws -> State,
                                 _ body: @escaping @Sendable (State) throws -> Double) async throws -> (samples: Samples, seconds: Double) {
        let samples = Mutex(Samples())
        let start = monotonicMilliseconds()
        let failures = await onBlockingThreads(threads) { _ in
            let state = try setup()
            for _ in 0..<perThread {
                let ms = try body(state)
                samples.withLock { $0.add(ms) }
            }
        }
        let seconds = (monotonicMilliseconds() - start) / 1000
        if let error = failures.first { throw error }
        return (samples.withLock { $0 }, seconds)
    }
}
