import Synchronization

/// A source file made ready to run under a profile: compiled once (inside the sandbox, with the
/// profile's compile limits) for compiled languages, as-is for interpreted ones.
public struct PreparedProgram: Sendable {
    public let profile: SandboxProfile
    let files: [BoxFile]
    /// The compiler's run, when the profile compiles. Nil for interpreted languages and cache hits.
    public let compileRun: RunResult?
    /// Set when compilation failed; every run of this program returns it (verdict CE).
    public let compileFailure: RunResult?
    /// True when the artefact came from the cache instead of a fresh compile.
    public let cached: Bool
}

/// Compiled artefacts keyed by the exact profile, compile command and source text (a dictionary
/// compares keys in full, so two sources can never share an entry by a hash collision).
/// Compile errors are cached too (compiling is deterministic); a compiler stopped by a limit is not.
final class ArtefactCache: Sendable {
    struct Key: Hashable, Sendable {
        var profile: String
        var command: [String]
        var source: String
    }
    enum Entry: Sendable {
        case artefact([UInt8])
        case failure(RunResult)
    }
    private struct State {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func lookup(_ key: Key) -> Entry? { state.withLock { $0.entries[key] } }

    func store(_ key: Key, _ entry: Entry) {
        state.withLock { s in
            if s.entries.updateValue(entry, forKey: key) == nil { s.order.append(key) }
            // Oldest first out; cheap enough at this capacity.
            while s.order.count > capacity { s.entries[s.order.removeFirst()] = nil }
        }
    }
}

extension Sandbox {
    /// Prepares `source` for running under `profile`, compiling it if the profile says so.
    /// A compile error is not thrown: it is a verdict (CE) that every run of the program returns.
    public func prepare(source: String, profile: SandboxProfile) throws(SandboxError) -> PreparedProgram {
        let sourceFile = BoxFile(name: profile.sourceFile, contents: Array(source.utf8))
        guard let compile = profile.compile else {
            return PreparedProgram(profile: profile, files: [sourceFile], compileRun: nil, compileFailure: nil, cached: false)
        }
        let key = ArtefactCache.Key(profile: profile.name, command: compile.command.argv, source: source)
        func program(_ entry: ArtefactCache.Entry, run: RunResult?, cached: Bool) -> PreparedProgram {
            switch entry {
            case .artefact(let bytes):
                let binary = BoxFile(name: compile.artifact, contents: bytes, executable: true)
                return PreparedProgram(profile: profile, files: [sourceFile, binary], compileRun: run, compileFailure: nil, cached: cached)
            case .failure(let failure):
                return PreparedProgram(profile: profile, files: [sourceFile], compileRun: run, compileFailure: failure, cached: cached)
            }
        }
        if let hit = artefacts.lookup(key) { return program(hit, run: nil, cached: true) }

        let execution = try execute(
            argv: compile.command.argv, environment: environment(for: profile), files: [sourceFile], stdin: [],
            limits: compile.limits, seccomp: profile.seccomp, collect: compile.artifact, collectLimit: 256 << 20,
            collectIsOptional: false)
        let run = execution.result
        let entry: ArtefactCache.Entry
        if run.verdict == .ok, let bytes = execution.collected {
            entry = .artefact(bytes)
        } else {
            var why = run.stderrText + run.stdoutText
            if run.verdict != .runtimeError {
                why += "\n[compiler stopped: \(run.verdict.rawValue)\(run.timeLimitClock.map { " (\($0.rawValue))" } ?? "")]"
            }
            var failure = run
            failure.verdict = .compileError
            failure.compileOutput = why
            entry = .failure(failure)
        }
        // A compiler stopped by a limit (time, memory, output) may succeed with more: only what
        // the compiler itself decided (success, or an error exit) is deterministic and cached.
        if run.verdict == .ok || run.verdict == .runtimeError { artefacts.store(key, entry) }
        return program(entry, run: run, cached: false)
    }

    /// Runs a prepared program once. `limits` defaults to the profile's.
    /// - Returns: the verdict with timings and output; CE when the program did not compile.
    /// - Throws: ``SandboxError`` only when the sandbox itself failed.
    public func run(_ program: PreparedProgram, stdin: [UInt8] = [], limits: Limits? = nil) throws(SandboxError) -> RunResult {
        if let failure = program.compileFailure { return failure }
        return try execute(
            argv: program.profile.run.argv, environment: environment(for: program.profile), files: program.files,
            stdin: stdin, limits: limits ?? program.profile.limits, seccomp: program.profile.seccomp, collect: nil,
            outOfMemoryMarkers: program.profile.outOfMemoryMarkers).result
    }


    /// Runs a prepared program once and reads `collect` back from its /work afterwards: a file
    /// the host reads out of band (never following symlinks, regular files only, at most
    /// `collectLimitBytes`). The file is nil when the run did not end OK or did not write it.
    public func run(_ program: PreparedProgram, stdin: [UInt8] = [], limits: Limits? = nil, collect: String,
                    collectLimitBytes: Int = 16 << 20) throws(SandboxError) -> (result: RunResult, collected: [UInt8]?) {
        if let failure = program.compileFailure { return (failure, nil) }
        guard SandboxProfile.isPlainFileName(collect) else {
            throw SandboxError(.invalidConfiguration, "collect must be a plain file name in /work, got '\(collect)'")
        }
        let execution = try execute(
            argv: program.profile.run.argv, environment: environment(for: program.profile), files: program.files,
            stdin: stdin, limits: limits ?? program.profile.limits, seccomp: program.profile.seccomp,
            collect: collect, collectLimit: collectLimitBytes, collectIsOptional: true,
            outOfMemoryMarkers: program.profile.outOfMemoryMarkers)
        return (execution.result, execution.collected)
    }

    /// Prepares and runs `source` once.
    public func run(source: String, profile: SandboxProfile, stdin: [UInt8] = [], limits: Limits? = nil) throws(SandboxError) -> RunResult {
        try run(prepare(source: source, profile: profile), stdin: stdin, limits: limits)
    }

    /// Runs an arbitrary command (an absolute path inside the box) with the base environment,
    /// `files` in /app and the built-in seccomp policy plus `seccomp`.
    public func run(command argv: [String], files: [BoxFile] = [], stdin: [UInt8] = [], limits: Limits = Limits(),
                    seccomp: SandboxProfile.Seccomp = SandboxProfile.Seccomp()) throws(SandboxError) -> RunResult {
        guard let exe = argv.first, exe.hasPrefix("/") else {
            throw SandboxError(.invalidConfiguration, "the command must start with an absolute path inside the box, got \(argv)")
        }
        let environment = Sandbox.baseEnvironment.map { "\($0.key)=\($0.value)" }.sorted()
        return try execute(argv: argv, environment: environment, files: files, stdin: stdin, limits: limits,
                           seccomp: seccomp, collect: nil).result
    }

    func environment(for profile: SandboxProfile) -> [String] {
        Sandbox.baseEnvironment.merging(profile.environment) { $1 }.map { "\($0.key)=\($0.value)" }.sorted()
    }
}
