import Foundation
import GradingServer
import Rewards
import Synchronization
import Testing

/// verl sends one `/run_code` per test case, 32–64 at once, and scores anything but a 200 after
/// three 504 retries as an API failure. A burst of CPU-bound time-outs must therefore come back
/// as SandboxFusion's would: each a `TimeLimitExceeded` (`Failed`) within about its
/// `run_timeout`, and the correct programs among them `Success`, none queued into a 504 behind
/// the time-outs (real sandbox, root only).
@Suite("Run-code bursts", .onServerThreads, .enabled(if: TestEnv.isRoot && TestEnv.sandboxBackend != nil))
struct BurstTests {
    enum Kind: String { case spin, sleep, print }

    /// 24 `while True: pass` with run_timeout 3, 4 programs that sleep 30 s with run_timeout 3,
    /// and 8 `print(1)`, all at once on a server with 2 workers. With /run_code on the 2 workers
    /// (the old policy) the spinners hold them 3 s each, and everything not started after 8 s in
    /// the queue gets a 504; on the oversubscribed /run_code pool every box starts at once.
    @Test func cpuBoundTimeOutsMixedWithCorrectProgramsAllComeBackWithTheirStatus() async throws {
        let server = try await InProcessServer.start(TestEnv.config(TestEnv.sandboxBackend!) { $0.workers = 2 },
                                                     executor: ServerThreads.shared)
        // The correct programs get a generous run_timeout: a few ms of work, so their Success
        // does not hinge on how loaded the test machine is (the spinners use 2 cores for 3 s).
        let kinds: [Kind] = (0..<36).map { i in i < 4 ? .sleep : (i % 4 == 3 ? .print : .spin) }
        let bodies: [Kind: String] = [
            .spin: #"{"code": "while True: pass", "language": "python", "compile_timeout": 10, "run_timeout": 3, "memory_limit_MB": 1024}"#,
            .sleep: #"{"code": "import time\ntime.sleep(30)", "language": "python", "run_timeout": 3}"#,
            .print: #"{"code": "print(1)", "language": "python", "run_timeout": 30}"#,
        ]
        let answers = Mutex<[Int: (status: Int, json: JSONValue?)]>([:])
        let failures = await onBlockingThreads(kinds.count) { i in
            let connection = try LoopbackHTTPConnection(port: server.port, timeoutSeconds: 90)
            let (status, body) = try connection.post("/run_code", body: Array(bodies[kinds[i]]!.utf8))
            answers.withLock { $0[i] = (status, try? JSONValue(parsing: body[...])) }
        }
        #expect(failures.isEmpty, "\(failures.count) requests got no answer, first: \(failures.first.map { "\($0)" } ?? "")")
        var wrong: [String] = []
        for (i, kind) in kinds.enumerated() {
            guard let (status, json) = answers.withLock({ $0[i] }) else { continue }
            let run = json?["run_result"]
            let right: Bool
            switch kind {
            case .spin, .sleep:
                right = status == 200 && json?["status"] == "Failed" && run?["status"] == "TimeLimitExceeded" && run?["return_code"] == .null
            case .print:
                right = status == 200 && json?["status"] == "Success" && run?["stdout"] == "1\n"
            }
            if !right { wrong.append("\(kind.rawValue) #\(i): HTTP \(status) \(json?.jsonText.prefix(200) ?? "")") }
        }
        let wrongCount = wrong.count
        #expect(wrongCount == 0, "\(wrongCount) of \(kinds.count) requests came back wrong: \(wrong.prefix(6).joined(separator: "; "))")
        try await server.stop()
    }
}
