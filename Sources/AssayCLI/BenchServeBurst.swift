import ArgumentParser
import Foundation
import Glibc
import GradingServer
import Rewards
import Sandboxing
import Synchronization

/// `assay bench serve`'s burst: what verl sees when a batch of test cases that all spin to their
/// `run_timeout` arrives at once with correct programs among them, under both `/run_code`
/// capacity policies in the same run.
extension BenchServe {
    /// One request's fate as verl's client records it.
    struct BurstAnswer: Sendable {
        var outcome: String
        var milliseconds: Double
        var tries: Int
    }

    /// Sends `body` as verl's `sandbox_fusion` client does: an HTTP timeout of compile + run +
    /// 10 s, up to 3 tries when the answer is a 504 (1 s, then 2 s apart), anything else final.
    static func verlRequest(port: Int, body: [UInt8], timeoutSeconds: Int) -> BurstAnswer {
        let start = monotonicMilliseconds()
        var outcome = ""
        var tries = 0
        for attempt in 1...3 {
            tries = attempt
            let status: Int, answer: [UInt8]
            do {
                let connection = try LoopbackHTTPConnection(port: port, timeoutSeconds: timeoutSeconds)
                (status, answer) = try connection.post("/run_code", body: body)
            } catch {
                outcome = "no answer in time (API failure)"
                break
            }
            if status == 504 {
                outcome = "504 three times (API failure)"
                if attempt < 3 { sleep(UInt32(attempt)) }
                continue
            }
            guard status == 200, let json = try? JSONValue(parsing: answer[...]) else {
                outcome = "HTTP \(status) (API failure)"
                break
            }
            let top = json["status"]?.stringValue ?? "?"
            let run = json["run_result"]?["status"]?.stringValue
            switch (top, run) {
            case ("Success", _): outcome = "Success"
            case ("Failed", "TimeLimitExceeded"): outcome = "TimeLimitExceeded"
            default: outcome = run.map { "\(top)/\($0)" } ?? top
            }
            break
        }
        return BurstAnswer(outcome: outcome, milliseconds: monotonicMilliseconds() - start, tries: tries)
    }

    /// `spinners` × `while True: pass` and `printers` × `print(1)`, all at once (interleaved), on
    /// a fresh server whose `/run_code` admits `boxes` runs at once. Prints one line per kind.
    func runBurst(backend: SandboxBackend, label: String, boxes: Int, spinners: Int, printers: Int, runTimeout: Double) async throws {
        var config = ServerConfiguration(backend: backend)
        config.workers = workers
        config.runCodeConcurrency = boxes
        config.quiet = true
        let server = try await InProcessServer.start(config)
        let port = server.port
        let total = spinners + printers
        // Interleaved so that the correct programs are spread through the burst, as verl's are.
        let isPrint: [Bool] = (0..<total).map { i in printers > 0 && (i * printers) % total < printers }
        let bodies = [false, true].map { p in
            Array((p ? #"{"code": "print(1)", "#
                     : #"{"code": "while True: pass", "#)
                  .appending(#""language": "python", "compile_timeout": 10, "run_timeout": \#(runTimeout), "memory_limit_MB": 1024, "stdin": "", "files": {}, "fetch_files": []}"#).utf8)
        }
        let timeout = Int((10 + runTimeout + 10).rounded(.up))
        let answers = Mutex<[(Bool, BurstAnswer)]>([])
        let start = monotonicMilliseconds()
        _ = await onBlockingThreads(total) { i in
            let a = Self.verlRequest(port: port, body: bodies[isPrint[i] ? 1 : 0], timeoutSeconds: timeout)
            answers.withLock { $0.append((isPrint[i], a)) }
        }
        let wall = (monotonicMilliseconds() - start) / 1000
        try await server.stop()
        let all = answers.withLock { $0 }
        for (kind, p) in [("spin", false), ("print(1)", true)] {
            let mine = all.filter { $0.0 == p }.map(\.1)
            guard !mine.isEmpty else { continue }
            var counts: [String: Int] = [:]
            for a in mine { counts[a.outcome, default: 0] += 1 }
            var samples = Samples()
            for a in mine { samples.add(a.milliseconds) }
            let retried = mine.filter { $0.tries > 1 }.count
            let summary = counts.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print(label.padding(toLength: 30, withPad: " ", startingAt: 0) + kind.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%4d %9.0f %9.0f  ", mine.count, samples.median, samples.percentile(100))
                  + summary + (retried > 0 ? " (\(retried) retried after a 504)" : ""))
        }
        print(label.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "the whole burst: %.1f s", wall))
    }

    /// The burst under the SandboxFusion policy (`/run_code` oversubscribed) and under the strict
    /// one (one box per worker, what `/run_code` had before), same machine, same run.
    func burstComparison(backend: SandboxBackend) async throws {
        let boxes = ServerConfiguration.defaultRunCodeConcurrency
        print("burst: \(burst) × `while True: pass` and \(burstPrint) × `print(1)` at once, run_timeout \(burstTimeout) s, from verl's client")
        print("       (HTTP timeout compile + run + 10 s, 3 tries on a 504, 1 s and 2 s apart); latency of the final answer in ms")
        print("")
        print("policy                        kind         n       p50       max  answers")
        try await runBurst(backend: backend, label: "oversubscribed (\(boxes) boxes)", boxes: boxes,
                        spinners: burst, printers: burstPrint, runTimeout: burstTimeout)
        try await runBurst(backend: backend, label: "strict (\(workers) workers)", boxes: workers,
                        spinners: burst, printers: burstPrint, runTimeout: burstTimeout)
    }
}
