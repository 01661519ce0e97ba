/// The outcome of one sandboxed run.
public struct RunResult: Sendable, Codable, Equatable {
    public var verdict: Verdict
    /// Exit status when the program exited by itself; nil when a signal ended it.
    public var exitCode: Int32?
    /// The signal that ended the program, if any (SIGKILL when the supervisor killed it).
    public var signal: Int32?
    /// Set for ``Verdict/timeLimitExceeded``.
    public var timeLimitClock: TimeLimitClock?
    /// CPU time of the whole process tree, in milliseconds (from the run's cgroup).
    public var cpuMilliseconds: Double
    /// Wall time from start to the end of the box, in milliseconds.
    public var wallMilliseconds: Double
    /// Peak memory of the whole box in bytes (cgroup peak, including its tmpfs and page cache).
    public var memoryBytes: Int
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// True when stdout or stderr passed its cap and the rest was discarded.
    public var outputTruncated: Bool
    /// For ``Verdict/compileError``: the compiler's run.
    public var compileOutput: String?

    public init(
        verdict: Verdict, exitCode: Int32?, signal: Int32?, timeLimitClock: TimeLimitClock?,
        cpuMilliseconds: Double, wallMilliseconds: Double, memoryBytes: Int,
        stdout: [UInt8], stderr: [UInt8], outputTruncated: Bool, compileOutput: String? = nil
    ) {
        self.verdict = verdict
        self.exitCode = exitCode
        self.signal = signal
        self.timeLimitClock = timeLimitClock
        self.cpuMilliseconds = cpuMilliseconds
        self.wallMilliseconds = wallMilliseconds
        self.memoryBytes = memoryBytes
        self.stdout = stdout
        self.stderr = stderr
        self.outputTruncated = outputTruncated
        self.compileOutput = compileOutput
    }

    /// stdout decoded as UTF-8 (invalid bytes replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr decoded as UTF-8 (invalid bytes replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
