import Glibc

/// What the cgroup saw of a finished run.
struct ResourceUsage {
    var peakMemoryBytes: Int
    var oomKills: Int
    var memoryLimitHits: Int
}

/// Turns a finished run into a verdict. Order matters: the most specific cause wins
/// (DMOJ's priority: a supervisor kill explains the signal it caused).
enum VerdictRules {
    static func classify(outcome: Shim.Outcome, usage: ResourceUsage, limits: Limits,
                         outOfMemoryMarkers: [String]) -> RunResult {
        let status = outcome.waitStatus
        let exited = (status & 0x7f) == 0
        let exitCode: Int32? = exited ? (status >> 8) & 0xff : nil
        let signal: Int32? = exited ? nil : status & 0x7f
        let cpuMs = Double(outcome.cpuNanoseconds) / 1e6
        let wallMs = Double(outcome.wallNanoseconds) / 1e6

        var clock: TimeLimitClock?
        let verdict: Verdict
        if signal == SIGSYS {
            verdict = .disallowedSyscall
        } else if outcome.killed == .cpu {
            (verdict, clock) = (.timeLimitExceeded, .cpu)
        } else if outcome.killed == .wall {
            (verdict, clock) = (.timeLimitExceeded, .wall)
        } else if outcome.killed == .stdout || outcome.killed == .stderr {
            verdict = .outputLimitExceeded
        } else if usage.oomKills > 0 {
            verdict = .memoryLimitExceeded
        } else if cpuMs > limits.cpuTimeSeconds * 1000 || signal == SIGXCPU {
            // Finished between two polls, or the RLIMIT_CPU backstop fired: still over the limit.
            (verdict, clock) = (.timeLimitExceeded, .cpu)
        } else if wallMs > limits.wallTimeSeconds * 1000 {
            (verdict, clock) = (.timeLimitExceeded, .wall)
        } else if signal == SIGXFSZ {
            verdict = .outputLimitExceeded
        } else if exitCode == 0 {
            verdict = .ok
        } else if usage.memoryLimitHits > 0 || endsWithMarker(outcome.stderr, outOfMemoryMarkers) {
            // The program failed after the kernel refused it memory: Python's MemoryError,
            // C++'s bad_alloc. That is the memory limit's doing, not a bug in the program.
            verdict = .memoryLimitExceeded
        } else {
            verdict = .runtimeError
        }
        return RunResult(
            verdict: verdict, exitCode: exitCode, signal: signal, timeLimitClock: clock,
            cpuMilliseconds: cpuMs, wallMilliseconds: wallMs, memoryBytes: usage.peakMemoryBytes,
            stdout: outcome.stdout, stderr: outcome.stderr,
            outputTruncated: outcome.killed == .stdout || outcome.killed == .stderr)
    }
}

/// True when the last non-empty line of `stderr` contains one of `markers`.
func endsWithMarker(_ stderr: [UInt8], _ markers: [String]) -> Bool {
    guard !markers.isEmpty else { return false }
    let tail = String(decoding: stderr.suffix(4096), as: UTF8.self)
    guard let last = tail.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return false }
    return markers.contains { last.contains($0) }
}
