import Hummingbird
import Rewards
import Sandboxing

/// SandboxFusion's `POST /run_code` and `GET /v1/ping`, exact to its wire format
/// (bytedance/SandboxFusion `sandbox/server/sandbox_api.py`), so verl's `sandbox_fusion.url`
/// and the `sandbox-fusion` PyPI client work unchanged.
///
/// Status rules, as SandboxFusion's `parse_run_status`: a time limit or a nonzero exit of any
/// command → `Failed`; otherwise `Success`. `SandboxError` is reserved for faults of the sandbox
/// itself, because the client retries it (and every non-200).
///
/// Capacity, as SandboxFusion's: `run_timeout` (and `compile_timeout`) are wall-clock limits
/// (the box's CPU limit equals them, so no program gets more CPU than SandboxFusion would give
/// it), and requests run at once on the `/run_code` pool, up to `runCodeConcurrency` boxes
/// oversubscribing the cores, not one per core: a burst of CPU-bound time-outs then ends within
/// its `run_timeout` with `TimeLimitExceeded` instead of queueing past the client's timeout into
/// 504s that verl scores as API failures. Graded endpoints keep CPU-time limits on one box per
/// worker, so their rewards do not depend on load.
struct RunCodeController {
    let services: ServerServices

    /// SandboxFusion names → our languages (the rest of its list is refused with a 400).
    static let languages: [String: Language] = ["python": .python, "python3": .python, "cpp": .cpp]

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/run_code") { request, _ in try await runCode(request) }
        router.get("/v1/ping") { _, _ in jsonResponse(.string("pong")) }
    }

    struct Parsed {
        var run: CodeRun
        /// What the client asked for, for the deadline (compile + run + margin).
        var budgetSeconds: Double
    }

    static func parse(_ body: JSONValue, defaultMemoryMiB: Int) throws -> Parsed {
        let f = try Fields(body)
        let code = try f.string("code")
        let languageName = try f.string("language")
        guard let language = languages[languageName] else {
            throw badRequest("unsupported language '\(languageName)'; this server runs: \(languages.keys.sorted().joined(separator: ", "))")
        }
        let compileTimeout = try f.optionalLimit("compile_timeout", LimitRanges.runSeconds, "seconds") ?? 10
        let runTimeout = try f.optionalLimit("run_timeout", LimitRanges.runSeconds, "seconds") ?? 10
        // -1 is SandboxFusion's default (no limit asked for): the server's default applies.
        var memory = defaultMemoryMiB
        if f.value["memory_limit_MB"]?.doubleValue != -1,
           let asked = try f.optionalLimit("memory_limit_MB", LimitRanges.memoryMiB, "MiB (or -1: the server's default, \(defaultMemoryMiB) MiB)") {
            memory = Int(asked)
        }
        let stdin = try f.optionalString("stdin") ?? ""
        let run = CodeRun(language: language, code: code, stdin: Array(stdin.utf8), compileTimeoutSeconds: compileTimeout,
                          runTimeoutSeconds: runTimeout, memoryMiB: memory, workDir: try RunCodeFiles.parse(f))
        return Parsed(run: run, budgetSeconds: (language == .cpp ? compileTimeout : 0) + runTimeout)
    }

    func runCode(_ request: Request) async throws -> Response {
        let body = try await readJSON(request, limit: services.configuration.maxBodyBytes)
        let parsed = try Self.parse(body, defaultMemoryMiB: services.configuration.defaultMemoryMiB)
        // verl's HTTP timeout is compile + run + 10 s and it retries 504 only. A run that starts
        // within runCodeQueueSeconds (8 s) ends within compile + run (+ overhead) of that (its
        // limits are wall-clock), so the answer beats the client's timeout; work still queued
        // after it (more than runCodeConcurrency requests at once) is answered 504 then.
        let deadline = ContinuousClock.now + .seconds(services.configuration.runCodeQueueSeconds)
        let backend = services.backend
        let outcome: Result<CodeRunOutcome, SandboxError>
        do {
            outcome = try await services.runCodePool.run(deadline: deadline) { () -> Result<CodeRunOutcome, SandboxError> in
                do throws(SandboxError) { return .success(try backend.runCode(parsed.run)) } catch { return .failure(error) }
            }
        } catch {
            throw services.httpError(for: error, pool: services.runCodePool)
        }
        let response = Self.response(outcome)
        services.metrics.recordRunCode(status: response["status"]?.stringValue ?? "?", outcome: try? outcome.get())
        return jsonResponse(response)
    }

    /// `CommandRunResult`: status Finished | TimeLimitExceeded (| Error), return_code null on TLE.
    static func commandResult(_ r: RunResult, compileOutput: Bool = false) -> JSONValue {
        let tle = r.verdict == .timeLimitExceeded || (compileOutput && r.timeLimitClock != nil)
        let returnCode: JSONValue
        if tle {
            returnCode = .null
        } else if let code = r.exitCode {
            returnCode = .number(Int(code))
        } else {
            // Python's subprocess convention for a signal death, as SandboxFusion reports it.
            returnCode = .number(-Int(r.signal ?? 9))
        }
        var stderr = r.stderrText
        if compileOutput, r.verdict == .compileError, let out = r.compileOutput { stderr = out }
        if r.outputTruncated { stderr += "\n[assay: output truncated at the output limit]" }
        switch r.verdict {
        case .memoryLimitExceeded: stderr += "\n[assay: memory limit exceeded]"
        case .disallowedSyscall: stderr += "\n[assay: killed by the seccomp filter]"
        default: break
        }
        return .object([
            ("status", .string(tle ? "TimeLimitExceeded" : "Finished")),
            ("execution_time", .seconds(r.wallMilliseconds)),
            ("return_code", returnCode),
            ("stdout", .string(compileOutput && r.verdict == .compileError ? "" : r.stdoutText)),
            ("stderr", .string(stderr)),
        ])
    }

    static func response(_ outcome: Result<CodeRunOutcome, SandboxError>) -> JSONValue {
        func body(_ status: String, _ message: String, compile: JSONValue, run: JSONValue, files: [String: [UInt8]] = [:]) -> JSONValue {
            .object([
                ("status", .string(status)), ("message", .string(message)),
                ("compile_result", compile), ("run_result", run),
                ("executor_pod_name", .null), ("files", RunCodeFiles.json(files)),
            ])
        }
        switch outcome {
        case .failure(let error):
            return body("SandboxError", error.description, compile: .null, run: .null)
        case .success(let o):
            let compile = o.compile.map { commandResult($0, compileOutput: true) } ?? .null
            guard let run = o.run else {
                return body("Failed", "compilation failed", compile: compile, run: .null, files: o.files)
            }
            let ok = run.verdict == .ok
            return body(ok ? "Success" : "Failed", "", compile: compile, run: commandResult(run), files: o.files)
        }
    }
}
