/// Resource limits for one run. Sizes are bytes in Swift; the JSON form (profiles, the daemon)
/// carries the unit in each key name, since JSON has no comments (nsjail's config does the same).
public struct Limits: Sendable, Hashable {
    /// CPU time of the whole process tree, polled from the cgroup every ≤100 ms.
    public var cpuTimeSeconds: Double
    /// Wall time; a program that sleeps or stops itself still ends on time.
    public var wallTimeSeconds: Double
    /// Memory of the whole box (cgroup), including files it writes to its tmpfs.
    public var memoryBytes: Int
    /// Processes plus threads alive at once (cgroup pids controller).
    public var maxProcesses: Int
    /// Largest file the program may write (RLIMIT_FSIZE).
    public var maxFileSizeBytes: Int
    /// Open file descriptors per process (RLIMIT_NOFILE).
    public var maxOpenFiles: Int
    /// Stack size per thread of the main program (RLIMIT_STACK).
    public var stackBytes: Int
    /// stdout kept; more is an output-limit kill (OLE).
    public var maxStdoutBytes: Int
    /// stderr kept; more is an output-limit kill (OLE).
    public var maxStderrBytes: Int
    /// Size of the private tmpfs holding /work and /tmp.
    public var workDirBytes: Int
    /// Inodes of that tmpfs (files plus directories).
    public var workDirInodes: Int

    public init(
        cpuTimeSeconds: Double = 2, wallTimeSeconds: Double? = nil, memoryBytes: Int = 256 << 20,
        maxProcesses: Int = 64, maxFileSizeBytes: Int = 16 << 20, maxOpenFiles: Int = 64,
        stackBytes: Int = 64 << 20, maxStdoutBytes: Int = 16 << 20, maxStderrBytes: Int = 1 << 20,
        workDirBytes: Int = 64 << 20, workDirInodes: Int = 4096
    ) {
        self.cpuTimeSeconds = cpuTimeSeconds
        // Twice the CPU limit plus a second: a fair program is never cut by a busy machine,
        // a sleeping one still ends promptly (isolate advises a wall limit "much higher").
        self.wallTimeSeconds = wallTimeSeconds ?? (cpuTimeSeconds * 2 + 1)
        self.memoryBytes = memoryBytes
        self.maxProcesses = maxProcesses
        self.maxFileSizeBytes = maxFileSizeBytes
        self.maxOpenFiles = maxOpenFiles
        self.stackBytes = stackBytes
        self.maxStdoutBytes = maxStdoutBytes
        self.maxStderrBytes = maxStderrBytes
        self.workDirBytes = workDirBytes
        self.workDirInodes = workDirInodes
    }

    /// Checks every limit against sane bounds, naming the first one that is out of range.
    public func validate() throws(SandboxError) {
        func check<T: Comparable>(_ name: String, _ value: T, _ range: ClosedRange<T>, _ unit: String) throws(SandboxError) {
            guard range.contains(value) else {
                throw SandboxError(.invalidConfiguration,
                    "\(name) is \(value) \(unit); it must be between \(range.lowerBound) and \(range.upperBound) \(unit)")
            }
        }
        try check("cpu time limit", cpuTimeSeconds, 0.01...3600, "seconds")
        try check("wall time limit", wallTimeSeconds, 0.01...7200, "seconds")
        try check("memory limit", memoryBytes >> 20, 4...(1 << 20), "MiB")
        try check("process limit", maxProcesses, 1...4096, "processes")
        try check("file size limit", maxFileSizeBytes >> 10, 0...(64 << 20), "KiB")
        try check("open files limit", maxOpenFiles, 4...65536, "descriptors")
        try check("stack limit", stackBytes >> 20, 1...(1 << 14), "MiB")
        try check("stdout cap", maxStdoutBytes >> 10, 1...(1 << 20), "KiB")
        try check("stderr cap", maxStderrBytes >> 10, 1...(1 << 20), "KiB")
        try check("work dir size", workDirBytes >> 20, 1...(64 << 10), "MiB")
        try check("work dir inodes", workDirInodes, 16...(1 << 22), "inodes")
    }
}

extension Limits: Codable {
    enum CodingKeys: String, CodingKey {
        case cpuTimeSeconds, wallTimeSeconds, memoryMiB, maxProcesses, maxFileSizeMiB, maxOpenFiles
        case stackMiB, maxStdoutMiB, maxStderrKiB, workDirMiB, workDirInodes
    }

    /// Missing keys take the defaults above, so a profile names only what it changes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Limits()
        let cpu = try c.decodeIfPresent(Double.self, forKey: .cpuTimeSeconds) ?? d.cpuTimeSeconds
        func mib(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            guard let v = try c.decodeIfPresent(Double.self, forKey: key) else { return fallback }
            return Int(v * 1024 * 1024)
        }
        self.init(
            cpuTimeSeconds: cpu,
            wallTimeSeconds: try c.decodeIfPresent(Double.self, forKey: .wallTimeSeconds),
            memoryBytes: try mib(.memoryMiB, d.memoryBytes),
            maxProcesses: try c.decodeIfPresent(Int.self, forKey: .maxProcesses) ?? d.maxProcesses,
            maxFileSizeBytes: try mib(.maxFileSizeMiB, d.maxFileSizeBytes),
            maxOpenFiles: try c.decodeIfPresent(Int.self, forKey: .maxOpenFiles) ?? d.maxOpenFiles,
            stackBytes: try mib(.stackMiB, d.stackBytes),
            maxStdoutBytes: try mib(.maxStdoutMiB, d.maxStdoutBytes),
            maxStderrBytes: (try c.decodeIfPresent(Double.self, forKey: .maxStderrKiB)).map { Int($0 * 1024) }
                ?? d.maxStderrBytes,
            workDirBytes: try mib(.workDirMiB, d.workDirBytes),
            workDirInodes: try c.decodeIfPresent(Int.self, forKey: .workDirInodes) ?? d.workDirInodes
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let mib = { (bytes: Int) in Double(bytes) / 1024 / 1024 }
        try c.encode(cpuTimeSeconds, forKey: .cpuTimeSeconds)
        try c.encode(wallTimeSeconds, forKey: .wallTimeSeconds)
        try c.encode(mib(memoryBytes), forKey: .memoryMiB)
        try c.encode(maxProcesses, forKey: .maxProcesses)
        try c.encode(mib(maxFileSizeBytes), forKey: .maxFileSizeMiB)
        try c.encode(maxOpenFiles, forKey: .maxOpenFiles)
        try c.encode(mib(stackBytes), forKey: .stackMiB)
        try c.encode(mib(maxStdoutBytes), forKey: .maxStdoutMiB)
        try c.encode(Double(maxStderrBytes) / 1024, forKey: .maxStderrKiB)
        try c.encode(mib(workDirBytes), forKey: .workDirMiB)
        try c.encode(workDirInodes, forKey: .workDirInodes)
    }
}
