import Rewards
import Sandboxing

/// One `/run_code` request as the backend sees it (already validated).
public struct CodeRun: Sendable {
    public var language: Language
    public var code: String
    public var stdin: [UInt8]
    /// Wall and CPU seconds for the compiler (compiled languages only).
    public var compileTimeoutSeconds: Double
    /// Wall and CPU seconds for the program.
    public var runTimeoutSeconds: Double
    /// Memory of the whole box in MiB.
    public var memoryMiB: Int
    /// Files in the program's work dir before it runs, and the names read back after it
    /// (SandboxFusion's `files` and `fetch_files`).
    public var workDir: WorkDirExchange

    public init(language: Language, code: String, stdin: [UInt8] = [], compileTimeoutSeconds: Double = 10,
                runTimeoutSeconds: Double = 10, memoryMiB: Int = 1024, workDir: WorkDirExchange = WorkDirExchange()) {
        self.language = language
        self.code = code
        self.stdin = stdin
        self.compileTimeoutSeconds = compileTimeoutSeconds
        self.runTimeoutSeconds = runTimeoutSeconds
        self.memoryMiB = memoryMiB
        self.workDir = workDir
    }
}

/// What compiling and running one program produced.
public struct CodeRunOutcome: Sendable {
    /// The compiler's run; nil for interpreted languages. A cache hit reports a zero-time run.
    public var compile: RunResult?
    /// True when the compiler rejected the source or ran out of its limits (no run then).
    public var compileFailed: Bool
    /// The program's run; nil when compilation failed.
    public var run: RunResult?
    /// The requested work dir files that were there after the run, by name.
    public var files: [String: [UInt8]]

    public init(compile: RunResult?, compileFailed: Bool, run: RunResult?, files: [String: [UInt8]] = [:]) {
        self.compile = compile
        self.compileFailed = compileFailed
        self.run = run
        self.files = files
    }
}

/// What the server runs code with. Both methods block their thread: the server calls them on
/// its ``WorkerPool`` only. Tests substitute a stub; production uses ``SandboxBackend``.
public protocol ExecutionBackend: Sendable {
    /// Compiles (if needed) and runs one program.
    /// - Throws: ``SandboxError`` only when the sandbox itself failed.
    func runCode(_ request: CodeRun) throws(SandboxError) -> CodeRunOutcome
    /// Runs graded submissions (``Grader``'s seam).
    var submissionExecutor: any SubmissionExecutor { get }
}

/// The production backend: assay's sandbox with the `python3` and `cpp` profiles.
public struct SandboxBackend: ExecutionBackend {
    public let sandbox: Sandbox
    public let python: SandboxProfile
    public let cpp: SandboxProfile
    public let submissionExecutor: any SubmissionExecutor

    /// Graded items run on `submissionExecutor`: by default the warm Python executor, which
    /// imports the harness preamble once per submission instead of once per test.
    public init(sandbox: Sandbox, catalog: ProfileCatalog, submissionExecutor: (any SubmissionExecutor)? = nil) throws(SandboxError) {
        self.sandbox = sandbox
        self.python = try catalog.profile(named: "python3")
        self.cpp = try catalog.profile(named: "cpp")
        if let submissionExecutor {
            self.submissionExecutor = submissionExecutor
        } else {
            self.submissionExecutor = try WarmPythonExecutor(sandbox: sandbox, catalog: catalog)
        }
    }

    public func runCode(_ request: CodeRun) throws(SandboxError) -> CodeRunOutcome {
        var profile = request.language == .cpp ? cpp : python
        if var compile = profile.compile {
            compile.limits.cpuTimeSeconds = request.compileTimeoutSeconds
            compile.limits.wallTimeSeconds = request.compileTimeoutSeconds
            profile.compile = compile
        }
        var limits = profile.limits
        limits.cpuTimeSeconds = request.runTimeoutSeconds
        // SandboxFusion's run_timeout is a wall-clock limit; CPU gets the same budget.
        limits.wallTimeSeconds = request.runTimeoutSeconds
        limits.memoryBytes = request.memoryMiB << 20
        if request.language == .python, request.workDir.files.isEmpty, request.workDir.fetch.isEmpty,
           let warm = submissionExecutor as? WarmPythonExecutor {
            // A child of the slot's clean zygote instead of a fresh interpreter: the program runs
            // as `python3 /app/main.py` would, with the same limits and isolation and no preamble.
            let run = try sandbox.runWarmPythonProgram(
                source: request.code, stdin: request.stdin, limits: limits, profile: profile,
                zygoteImports: warm.zygoteImports, zygotePrelude: warm.zygotePrelude)
            return CodeRunOutcome(compile: nil, compileFailed: false, run: run, files: [:])
        }
        let program = try sandbox.prepare(source: request.code, profile: profile)
        if let failure = program.compileFailure {
            // Nothing ran: the files asked for are the ones sent (as SandboxFusion returns them).
            let sent = request.workDir.files.filter { request.workDir.fetch.contains($0.name) }
            return CodeRunOutcome(compile: failure, compileFailed: true, run: nil,
                                  files: Dictionary(sent.map { ($0.name, $0.contents) }) { $1 })
        }
        var compile = program.compileRun
        if profile.compile != nil, compile == nil {
            // Cached artefact: the compile already succeeded once for this exact source.
            compile = RunResult(verdict: .ok, exitCode: 0, signal: nil, timeLimitClock: nil, cpuMilliseconds: 0,
                                wallMilliseconds: 0, memoryBytes: 0, stdout: [], stderr: [], outputTruncated: false)
        }
        let (run, fetched) = try sandbox.run(program, stdin: request.stdin, limits: limits, exchange: request.workDir)
        return CodeRunOutcome(compile: compile, compileFailed: false, run: run, files: fetched)
    }
}
