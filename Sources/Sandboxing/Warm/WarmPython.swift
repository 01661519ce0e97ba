import Foundation
import Glibc

/// One test for the warm Python path.
public struct WarmTest: Sendable, Hashable {
    /// The test's standard input.
    public var stdin: [UInt8]
    /// Python run after the submission in the same namespace, e.g. to call a function. It hands
    /// its value to the host with `__assay_result__(value)` (JSON-encoded, out of band: the host,
    /// not the program, decides whether it is right).
    public var driver: String?

    public init(stdin: [UInt8] = [], driver: String? = nil) {
        self.stdin = stdin
        self.driver = driver
    }
}

/// The outcome of one warm test.
public struct WarmTestResult: Sendable {
    /// Verdict, timings and output of the test's own process.
    public var run: RunResult
    /// What the driver passed to `__assay_result__` (JSON bytes); nil when it never got there.
    public var returned: [UInt8]?
    /// The file named by `collect` as the test left it in /work (regular files only, read by
    /// the harness without following symlinks); nil when absent or the test was killed.
    public var collected: [UInt8]?
}

extension Sandbox {
    /// Memory the harness itself may use on top of a test's limit (an interpreter with the
    /// preamble's modules, numpy included, is 30–50 MiB; its pages are shared with the children).
    public static let warmHarnessHeadroomBytes = 128 << 20

    /// Runs every test of one Python submission in one box: an interpreter imports `preamble`
    /// once, then forks a fresh child per test from that clean state (see ``PythonHarness``).
    ///
    /// Per test: CPU (polled every 20 ms, RLIMIT_CPU backstop), wall time, stdout/stderr caps;
    /// memory is the box's cgroup limit, `limits.memoryBytes` plus the harness headroom.
    /// Nothing a test writes (files, processes, SysV IPC) survives into the next test, and no
    /// two submissions ever share a harness.
    ///
    /// - Returns: one result per test that ran, in order. With `stopAtFirstFailure` the list
    ///   ends at the first test whose process failed (a wrong answer is for the caller to judge).
    ///   A test the box never reported on (the whole box hit its limits) gets that verdict.
    /// - Throws: ``SandboxError`` when the sandbox or the harness itself failed.
    /// - Parameters:
    ///   - collect: a file each test may leave in /work, read back after the test (an
    ///     out-of-band result record) before the box is cleaned for the next test.
    ///   - collectLimitBytes: the most that file (or a driver's `__assay_result__` value) may hold.
    public func runWarmPython(source: String, preamble: String, tests: [WarmTest], limits: Limits,
                              profile: SandboxProfile, stopAtFirstFailure: Bool,
                              collect: String? = nil, collectLimitBytes: Int = 1 << 20) throws(SandboxError) -> [WarmTestResult] {
        guard let interpreter = profile.run.argv.first else {
            throw SandboxError(.invalidConfiguration, "profile '\(profile.name)' has no interpreter")
        }
        try limits.validate()
        if let collect, !SandboxProfile.isPlainFileName(collect) {
            throw SandboxError(.invalidConfiguration, "collect must be a plain file name in /work, got '\(collect)'")
        }
        let resultCap = collectLimitBytes
        var job: [String: Any] = [
            "source": "/app/" + profile.sourceFile,
            "preamble": preamble,
            "stopAtFirstFailure": stopAtFirstFailure,
            "limits": ["cpu": limits.cpuTimeSeconds, "wall": limits.wallTimeSeconds, "stdout": limits.maxStdoutBytes,
                       "stderr": limits.maxStderrBytes, "result": resultCap],
            "tests": tests.map { test -> [String: Any] in
                var t: [String: Any] = ["stdin": String(decoding: test.stdin.map { UInt16($0) }, as: UTF16.self)]
                if let driver = test.driver { t["driver"] = driver }
                return t
            },
        ]
        if let collect { job["collect"] = collect }
        let jobBytes: [UInt8]
        do { jobBytes = [UInt8](try JSONSerialization.data(withJSONObject: job)) } catch {
            throw SandboxError(.invalidConfiguration, "cannot encode the warm job: \(error)")
        }

        // The box holds the whole submission: every test's budget plus the harness's start-up.
        let count = Double(max(tests.count, 1))
        var box = limits
        box.cpuTimeSeconds = min(limits.cpuTimeSeconds * count + 10, 3600)
        box.wallTimeSeconds = min(limits.wallTimeSeconds * count + 20, 7200)
        box.memoryBytes = limits.memoryBytes + Self.warmHarnessHeadroomBytes
        box.maxProcesses = limits.maxProcesses + 2
        // Records carry each test's output JSON-escaped (at most 6 bytes per byte).
        box.maxStdoutBytes = min((limits.maxStdoutBytes + limits.maxStderrBytes + 2 * resultCap) * 6 * Int(count) + (1 << 16), 1 << 30)

        let files = [BoxFile(name: profile.sourceFile, contents: Array(source.utf8)),
                     BoxFile(name: PythonHarness.fileName, contents: Array(PythonHarness.source.utf8))]
        let argv = [interpreter, "-I", "-B", "/app/" + PythonHarness.fileName]
        let execution = try execute(argv: argv, environment: environment(for: profile), files: files, stdin: jobBytes,
                                    limits: box, seccomp: profile.seccomp, collect: nil, programIsInit: true)
        return try WarmRecords.decode(execution.result, tests: tests.count, limits: limits, outOfMemoryMarkers: profile.outOfMemoryMarkers)
    }
}

/// Reads the harness's JSON lines back into per-test results.
enum WarmRecords {
    static func decode(_ box: RunResult, tests: Int, limits: Limits, outOfMemoryMarkers: [String]) throws(SandboxError) -> [WarmTestResult] {
        var results: [WarmTestResult] = []
        var ready = false, done = false
        for line in box.stdout.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw SandboxError(.supervisionFailed, "the warm harness wrote an unreadable record")
            }
            if object["ready"] != nil { ready = true; continue }
            if object["done"] != nil { done = true; continue }
            guard ready, let index = object["index"] as? Int, index == results.count, index < tests else {
                throw SandboxError(.supervisionFailed, "the warm harness wrote a record out of order")
            }
            results.append(WarmTestResult(run: testResult(object, limits: limits, outOfMemoryMarkers: outOfMemoryMarkers),
                                          returned: latin1(object["result"]), collected: latin1(object["collected"])))
        }
        guard ready else {
            // Nothing submitted has run before "ready": a harness that never got there is ours to fix.
            throw SandboxError(.supervisionFailed,
                "the warm harness did not start (\(box.verdict.rawValue)): \(box.stderrText.suffix(2000))")
        }
        if !done && results.count < tests {
            // The box itself ended mid-test (its own limits, or the kernel's OOM killer chose the
            // harness): the test that was running takes the box's verdict.
            var run = box
            run.stdout = []
            if run.verdict == .ok { run.verdict = .runtimeError }
            results.append(WarmTestResult(run: run, returned: nil, collected: nil))
        }
        return results
    }

    private static func latin1(_ value: Any?) -> [UInt8]? {
        guard let text = value as? String else { return nil }
        return text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
    }

    private static func testResult(_ o: [String: Any], limits: Limits, outOfMemoryMarkers: [String]) -> RunResult {
        let killed = o["killed"] as? String
        let code = (o["code"] as? Int).map(Int32.init)
        let signal = (o["signal"] as? Int).map(Int32.init)
        let cpuMs = (o["cpu"] as? Double ?? 0) * 1000
        let wallMs = (o["wall"] as? Double ?? 0) * 1000
        let stderr = latin1(o["stderr"]) ?? []
        var clock: TimeLimitClock?
        let verdict: Verdict
        switch (killed, signal) {
        case ("cpu", _): (verdict, clock) = (.timeLimitExceeded, .cpu)
        case ("wall", _): (verdict, clock) = (.timeLimitExceeded, .wall)
        case ("ole", _): verdict = .outputLimitExceeded
        case (_, SIGSYS): verdict = .disallowedSyscall
        case (_, SIGXCPU): (verdict, clock) = (.timeLimitExceeded, .cpu)
        case (_, SIGXFSZ): verdict = .outputLimitExceeded
        // The harness did not kill it, and nothing else in the box can: the OOM killer did.
        case (_, SIGKILL): verdict = .memoryLimitExceeded
        default:
            if cpuMs > limits.cpuTimeSeconds * 1000 {
                (verdict, clock) = (.timeLimitExceeded, .cpu)
            } else if wallMs > limits.wallTimeSeconds * 1000 {
                (verdict, clock) = (.timeLimitExceeded, .wall)
            } else {
                verdict = code == 0 ? .ok : endsWithMarker(stderr, outOfMemoryMarkers) ? .memoryLimitExceeded : .runtimeError
            }
        }
        return RunResult(
            verdict: verdict, exitCode: code, signal: signal, timeLimitClock: clock,
            cpuMilliseconds: cpuMs, wallMilliseconds: wallMs, memoryBytes: o["maxrss"] as? Int ?? 0,
            stdout: latin1(o["stdout"]) ?? [], stderr: stderr,
            outputTruncated: killed == "ole")
    }
}
