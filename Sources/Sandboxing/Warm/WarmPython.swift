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
    /// Memory the harness itself may use beside its tests (an interpreter with the preamble's
    /// modules, numpy included, is 30–50 MiB); the harness also holds one test's capped output
    /// while it sends it, which is added on top.
    public static let warmHarnessHeadroomBytes = 96 << 20

    /// The most a submission's records may add up to on the host (every test's output, result and
    /// collected file). A submission that writes more ends with the running test's verdict OLE.
    public static let warmRecordStreamCapBytes = 256 << 20

    /// Runs every test of one Python submission in one box forked from the clean zygote (an
    /// interpreter that imported the harness and `zygoteImports` once, see ``ZygoteProgram``);
    /// the box runs `preamble`, then forks a fresh child per test from that clean state (see
    /// ``PythonHarness``).
    ///
    /// Each test runs in the slot's per-test cgroup with exactly the limits a cold run of it
    /// would get (`limits`): CPU of all its processes, its own memory and process limits, wall
    /// time, stdout/stderr caps. Nothing a test leaves (files whatever their modes, processes,
    /// SysV IPC) survives into the next test, no test can reach the harness, and no two
    /// submissions ever share a harness.
    ///
    /// - Returns: one result per test that ran, in order. With `stopAtFirstFailure` the list
    ///   ends at the first test whose process failed (a wrong answer is for the caller to judge).
    ///   A test the box never reported on (the box's own backstop limits) gets that verdict.
    /// - Throws: ``SandboxError`` when the sandbox or the harness itself failed, and when the
    ///   host has no cgroups (the weaker mode): tests could not get their own limits there.
    /// - Parameters:
    ///   - collect: a file each test may leave in /work, read back after the test (an
    ///     out-of-band result record) before the box is cleaned for the next test.
    ///   - collectLimitBytes: the most that file (or a driver's `__assay_result__` value) may hold.
    ///   - zygoteImports: what the zygote imports once (nil: `preamble`). Only warms
    ///     `sys.modules`; the tests' namespace gets `preamble` alone (e.g. `/run_code` runs a
    ///     program with no preamble on the graders' zygote).
    ///   - prelude: trusted Python (ours, never submitted code) that each test runs between
    ///     `preamble` and `source`, in the same namespace: the zygote compiles it once, as the
    ///     profile's source file, so a long driver costs no compile per submission. A cold run
    ///     of the same program runs `prelude + source` as one file.
    ///   - zygotePrelude: the prelude the zygote compiles (nil: `prelude`); a run without a
    ///     prelude may still use a zygote that has one (`/run_code` on the graders' zygote).
    public func runWarmPython(source: String, preamble: String, prelude: String? = nil, zygoteImports: String? = nil,
                              zygotePrelude: String? = nil, tests: [WarmTest], limits: Limits,
                              profile: SandboxProfile, stopAtFirstFailure: Bool,
                              collect: String? = nil, collectLimitBytes: Int = 1 << 20) throws(SandboxError) -> [WarmTestResult] {
        guard let interpreter = profile.run.argv.first else {
            throw SandboxError(.invalidConfiguration, "profile '\(profile.name)' has no interpreter")
        }
        try limits.validate()
        if let prelude, let zygotePrelude, prelude != zygotePrelude {
            throw SandboxError(.invalidConfiguration, "a run's prelude must be its zygote's prelude")
        }
        if let collect, !SandboxProfile.isPlainFileName(collect) {
            throw SandboxError(.invalidConfiguration, "collect must be a plain file name in /work, got '\(collect)'")
        }
        // Test inputs and drivers travel as raw bytes after the header; the harness copies each
        // test's share into that test's own memfd, so no test sees another's.
        var payload: [UInt8] = Array(source.utf8)
        var testSpecs: [WireJSON] = []
        for test in tests {
            var spec: [(String, WireJSON)] = [("stdin", .ints([payload.count, test.stdin.count]))]
            payload += test.stdin
            if let driver = test.driver {
                let bytes = Array(driver.utf8)
                spec.append(("driver", .ints([payload.count, bytes.count])))
                payload += bytes
            }
            testSpecs.append(.object(spec))
        }
        var job: [(String, WireJSON)] = [
            ("source", .ints([0, source.utf8.count])),
            ("path", .string("/app/" + profile.sourceFile)),
            ("preamble", .string(preamble)),
            ("prelude", .bool(prelude != nil)),
            ("stopAtFirstFailure", .bool(stopAtFirstFailure)),
            ("limits", .object([("cpu", .double(limits.cpuTimeSeconds)), ("wall", .double(limits.wallTimeSeconds)),
                                ("stdout", .int(limits.maxStdoutBytes)), ("stderr", .int(limits.maxStderrBytes)),
                                ("result", .int(collectLimitBytes)), ("processes", .int(limits.maxProcesses))])),
            ("tests", .array(testSpecs)),
        ]
        if let collect { job.append(("collect", .string(collect))) }

        // The box holds the whole submission: every test's budget plus the harness's start-up.
        // These are backstops only; each test's own limits are enforced in its cgroup.
        let count = Double(max(tests.count, 1))
        let perTestRecord = limits.maxStdoutBytes + limits.maxStderrBytes + 2 * collectLimitBytes + 4096
        var box = limits
        box.cpuTimeSeconds = min(limits.cpuTimeSeconds * count + 10, 3600)
        box.wallTimeSeconds = min((limits.wallTimeSeconds + 0.5) * count + 20, 7200)
        box.memoryBytes = limits.memoryBytes + Self.warmHarnessHeadroomBytes + perTestRecord
        box.maxProcesses = limits.maxProcesses + 2
        box.maxStdoutBytes = min(perTestRecord * Int(count) + (1 << 16), Self.warmRecordStreamCapBytes)

        let harness = WarmHarnessSetup(testLimits: limits) { (cgroup: WireJSON) -> [UInt8] in
            let bytes = WireJSON.object(job + [("cgroup", cgroup)]).bytes
            return Array(String(format: "%016d", bytes.count).utf8) + bytes + payload
        }
        let key = PythonZygote.Key(interpreter: interpreter, environment: environment(for: profile), preamble: zygoteImports ?? preamble,
                                   prelude: zygotePrelude ?? prelude ?? "", preludePath: "/app/" + profile.sourceFile)
        let execution = try executeInZygote(key, boxLimits: box, seccomp: profile.seccomp, work: .harness(harness))
        return try WarmRecords.decode(execution, tests: tests.count, limits: limits,
                                      outOfMemoryMarkers: profile.outOfMemoryMarkers)
    }
}

/// What `Sandbox.executeInZygote` needs to start a warm harness: the limits of each test (set on
/// the slot's per-test cgroup) and the job, which names the descriptors the harness inherits.
struct WarmHarnessSetup {
    var testLimits: Limits
    var job: (WireJSON) -> [UInt8]
}

/// Reads the harness's records back into per-test results: per test, a JSON header line, then
/// the raw bytes of stdout, stderr, the driver's result and the collected file (`lengths`).
enum WarmRecords {
    /// One record header the harness writes (`PythonHarness`): a marker, an error, or a test's.
    struct Record: Decodable {
        var ready: Bool?
        var done: Bool?
        var error: String?
        var index: Int?
        var killed: String?
        var status: Int?
        var wall_ns: Int?
        var cpu_ns: Int?
        var peak: Int?
        var oom: Int?
        var limit_hits: Int?
        var lengths: [Int]?
    }

    static func decode(_ box: RunResult, tests: Int, limits: Limits, outOfMemoryMarkers: [String]) throws(SandboxError) -> [WarmTestResult] {
        var results: [WarmTestResult] = []
        var ready = false, done = false
        let decoder = JSONDecoder()
        let stream = box.stdout
        var at = 0
        // The box's stream cap (OLE) may cut the last record short: what came whole counts.
        let cut = box.verdict == .outputLimitExceeded
        while at < stream.count {
            guard let newline = stream[at...].firstIndex(of: UInt8(ascii: "\n")) else {
                if cut { break }
                throw SandboxError(.supervisionFailed, "the warm harness wrote an unterminated record")
            }
            guard let object = try? decoder.decode(Record.self, from: Data(stream[at..<newline])) else {
                throw SandboxError(.supervisionFailed, "the warm harness wrote an unreadable record")
            }
            at = newline + 1
            if object.ready != nil { ready = true; continue }
            if object.done != nil { done = true; continue }
            if let error = object.error {
                throw SandboxError(.supervisionFailed, "the warm harness failed: \(error)")
            }
            guard ready, let index = object.index, index == results.count, index < tests,
                  let lengths = object.lengths, lengths.count == 4 else {
                throw SandboxError(.supervisionFailed, "the warm harness wrote a record out of order")
            }
            var parts: [[UInt8]?] = []
            for length in lengths {
                guard length >= 0 else { parts.append(nil); continue }
                guard at + length <= stream.count else {
                    if cut { at = stream.count; break }
                    throw SandboxError(.supervisionFailed, "the warm harness wrote a short record")
                }
                parts.append(Array(stream[at..<(at + length)]))
                at += length
            }
            guard parts.count == 4 else { break }
            results.append(WarmTestResult(run: testResult(object, stdout: parts[0] ?? [], stderr: parts[1] ?? [],
                                                          limits: limits, outOfMemoryMarkers: outOfMemoryMarkers),
                                          returned: parts[2].flatMap { $0.isEmpty ? nil : $0 }, collected: parts[3]))
        }
        guard ready else {
            // Nothing submitted has run before "ready": a harness that never got there is ours to fix.
            throw SandboxError(.supervisionFailed,
                "the warm harness did not start (\(box.verdict.rawValue)): \(box.stderrText.suffix(2000))")
        }
        if !done && results.count < tests {
            // The box itself ended mid-test (its backstop limits): the test that was running
            // takes the box's verdict.
            var run = box
            run.stdout = []
            if run.verdict == .ok { run.verdict = .runtimeError }
            results.append(WarmTestResult(run: run, returned: nil, collected: nil))
        }
        return results
    }

    /// The same rules as a cold run (`VerdictRules`), applied to what the harness measured in
    /// the test's cgroup.
    private static func testResult(_ o: Record, stdout: [UInt8], stderr: [UInt8], limits: Limits,
                                   outOfMemoryMarkers: [String]) -> RunResult {
        let killed: KillReason = switch o.killed {
        case "cpu": .cpu
        case "wall": .wall
        case "stdout", "result": .stdout
        case "stderr": .stderr
        default: .none
        }
        let outcome = Shim.Outcome(
            waitStatus: Int32(truncatingIfNeeded: o.status ?? Int(SIGKILL)), killed: killed,
            stdout: stdout, stderr: stderr,
            wallNanoseconds: Int64(o.wall_ns ?? 0), cpuNanoseconds: Int64(o.cpu_ns ?? 0),
            maxRSSBytes: 0)
        let usage = ResourceUsage(peakMemoryBytes: o.peak ?? 0, oomKills: o.oom ?? 0,
                                  memoryLimitHits: o.limit_hits ?? 0)
        return VerdictRules.classify(outcome: outcome, usage: usage, limits: limits, outOfMemoryMarkers: outOfMemoryMarkers)
    }
}
