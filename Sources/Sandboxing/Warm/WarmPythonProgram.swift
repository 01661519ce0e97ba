import Glibc

extension Sandbox {
    /// Runs one Python program once, as `python3 /app/<source file>` with `stdin` (what
    /// `/run_code` runs), in a box forked from the clean zygote for `zygoteImports` and
    /// `zygotePrelude` (no interpreter start; the program's namespace gets neither).
    ///
    /// The box is laid out as a cold one: its first process is the box's init (the forked
    /// zygote child), the program runs as pid 2 with ordinary signal semantics, and the init
    /// reports how it ended on a status pipe no program process holds. The program's stdout
    /// and stderr are the host's pipes, read with the cold path's caps; the slot's cgroup has
    /// the cold limits (the init gets one process on top); CPU, memory and the verdict come from
    /// the same counters and rules (`VerdictRules`) as a cold run's.
    ///
    /// - Throws: ``SandboxError`` when the sandbox, the zygote or the box's init failed: never a
    ///   verdict.
    public func runWarmPythonProgram(source: String, stdin: [UInt8], limits: Limits, profile: SandboxProfile,
                                     zygoteImports: String, zygotePrelude: String) throws(SandboxError) -> RunResult {
        guard let interpreter = profile.run.argv.first else {
            throw SandboxError(.invalidConfiguration, "profile '\(profile.name)' has no interpreter")
        }
        try limits.validate()
        let path = "/app/" + profile.sourceFile
        let header = WireJSON.object([("path", .string(path)), ("source", .int(source.utf8.count))]).bytes
        let job = Array(String(format: "%016d", header.count).utf8) + header + Array(source.utf8)
        let key = PythonZygote.Key(interpreter: interpreter, environment: environment(for: profile), preamble: zygoteImports,
                                   prelude: zygotePrelude, preludePath: path)
        return try executeInZygote(key, boxLimits: limits, seccomp: profile.seccomp,
                                   work: .program(ZygoteProgramRun(job: job, stdin: stdin,
                                                                   outOfMemoryMarkers: profile.outOfMemoryMarkers)))
    }
}
