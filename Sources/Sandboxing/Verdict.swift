/// What happened to a program, as a value. Failures of the sandbox itself are never verdicts:
/// they are thrown as ``SandboxError``.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Exited with status 0 within every limit.
    case ok = "OK"
    /// Non-zero exit status or a fatal signal (see ``RunResult/exitCode`` and ``RunResult/signal``).
    case runtimeError = "RE"
    /// Used more CPU time or wall time than allowed (see ``RunResult/timeLimitClock``).
    case timeLimitExceeded = "TLE"
    /// Hit the memory limit: killed by the OOM killer, or failed after an allocation was refused.
    case memoryLimitExceeded = "MLE"
    /// Printed more than the stdout or stderr cap, or exceeded the file size limit.
    case outputLimitExceeded = "OLE"
    /// Killed by the seccomp filter for a syscall the profile forbids outright.
    case disallowedSyscall = "SYS"
    /// The compiler rejected the source (or ran out of its own limits).
    case compileError = "CE"
}

/// Which clock a ``Verdict/timeLimitExceeded`` verdict ran out of.
public enum TimeLimitClock: String, Sendable, Codable {
    case cpu
    case wall
}
