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
        abstract: "Requests/s and p50/p99 latency of /run_code (python print(1), C++ a+b) against direct sandbox runs.")

    @Option(help: "Concurrent HTTP clients (each with its own keep-alive connection).")
    var clients = 16

    @Option(help: "Requests per client and workload.")
    var requests = 10

    @Option(help: "Server workers (default: the machine's cores).")
    var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @OptionGroup var sandboxOptions: SandboxOptions

    struct Workload {
        var name: String
        var run: CodeRun
        var body: String
        var expected: String
    }

    func run() async throws {
        let sandbox = try sandboxOptions.makeSandbox()
        let backend = try SandboxBackend(sandbox: sandbox, catalog: try ProfileCatalog(directory: sandboxOptions.profilesDirectory))
        var config = ServerConfiguration(backend: backend)
        config.workers = workers
        config.quiet = true
        let server = try await InProcessServer.start(config)
        let bound = server.port

        let cpp = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << \"\\n\"; }\n"
        let workloads = [
            Workload(name: "python print(1)", run: CodeRun(language: .python, code: "print(1)"),
                     body: #"{"code": "print(1)", "language": "python"}"#, expected: "1\n"),
            Workload(name: "cpp a+b", run: CodeRun(language: .cpp, code: cpp, stdin: Array("1 2\n".utf8)),
                     body: #"{"code": \#(JSONValue.string(cpp).jsonText), "stdin": "1 2\n", "language": "cpp"}"#, expected: "3\n"),
        ]
        let total = clients * requests
        print("assay bench serve: \(workers) workers; \(total) requests per workload; latency in ms")
        print("baseline: the same runs through SandboxBackend.runCode on \(workers) threads, no HTTP (the server's own capacity)")
        print("")
        print("workload          variant                      req/s     p50       p99")
        var rss = [ProcessMemory.residentBytes]
        for w in workloads {
            let direct = { @Sendable () throws -> Double in
                let start = monotonicMilliseconds()
                let outcome = try backend.runCode(w.run)
                guard outcome.run?.stdoutText == w.expected else { throw ValidationError("\(w.name): unexpected output \(outcome.run?.stdoutText ?? "nil")") }
                return monotonicMilliseconds() - start
            }
            // Warm-up (not counted): compiles and caches the C++ artefact, fills the slot and
            // network-namespace pools, pages the interpreter in.
            _ = try await Self.onThreads(workers, perThread: 8, setup: {}) { _ in try direct() }
            row(w.name, "direct (\(workers) threads)", try await Self.onThreads(workers, perThread: (total + workers - 1) / workers, setup: {}) { _ in try direct() })
            for concurrency in Set([workers, clients]).sorted() {
                let perClient = total / concurrency
                let http = try await Self.onThreads(concurrency, perThread: perClient, setup: { try LoopbackHTTPConnection(port: bound) }) { conn in
                    let start = monotonicMilliseconds()
                    let (status, body) = try conn.post("/run_code", body: Array(w.body.utf8))
                    let ms = monotonicMilliseconds() - start
                    guard status == 200, let json = try? JSONValue(parsing: body[...]), json["run_result"]?["stdout"]?.stringValue == w.expected else {
                        throw ValidationError("\(w.name): HTTP \(status): \(String(decoding: body, as: UTF8.self).prefix(300))")
                    }
                    return ms
                }
                row(w.name, "HTTP (\(concurrency) clients)", http)
            }
            // The baseline again after the HTTP runs: the spread of the two is the machine's noise.
            row(w.name, "direct again", try await Self.onThreads(workers, perThread: (total + workers - 1) / workers, setup: {}) { _ in try direct() })
            rss.append(ProcessMemory.residentBytes)
        }
        try await server.stop()
        // The server runs in this process: its memory must not grow with the requests served.
        print("")
        print("process memory (server and clients), RSS in MiB: before the runs, then after each workload: "
              + rss.map { String(format: "%.1f", Double($0) / 1048576) }.joined(separator: ", ")
              + String(format: "; peak %.1f", Double(ProcessMemory.peakResidentBytes) / 1048576))
    }

    func row(_ workload: String, _ variant: String, _ r: (samples: Samples, seconds: Double)) {
        let rps = Double(r.samples.values.count) / r.seconds
        print(workload.padding(toLength: 18, withPad: " ", startingAt: 0) + variant.padding(toLength: 26, withPad: " ", startingAt: 0)
              + String(format: "%8.1f", rps) + formatMs(r.samples.median) + formatMs(r.samples.percentile(99)))
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
