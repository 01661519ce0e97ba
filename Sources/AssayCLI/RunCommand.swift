import ArgumentParser
import Foundation
import Sandboxing

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run one program in the sandbox.")

    @Option(help: "Language profile (a file in sandbox-profiles/, e.g. python3, cpp).")
    var profile: String

    @Option(help: "File whose contents become the program's stdin.")
    var stdin: String?

    @Option(name: .customLong("time-limit"), help: "CPU time limit in seconds (wall limit: twice that plus 1 s).")
    var timeLimit: Double?

    @Option(name: .customLong("memory-limit"), help: "Memory limit in MiB.")
    var memoryLimit: Int?

    @Flag(help: "Print exactly one JSON object on stdout.")
    var json = false

    @OptionGroup var sandboxOptions: SandboxOptions

    @Argument(help: "Source file to run.")
    var source: String

    func validate() throws {
        if let timeLimit, !(0.01...3600).contains(timeLimit) {
            throw ValidationError("--time-limit must be between 0.01 and 3600 seconds, got \(timeLimit)")
        }
        if let memoryLimit, !(4...(1 << 20)).contains(memoryLimit) {
            throw ValidationError("--memory-limit must be between 4 and 1048576 MiB, got \(memoryLimit)")
        }
    }

    func run() throws {
        let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
        let profile = try catalog.profile(named: self.profile)
        let code = try readText(source, what: "source file")
        let input = try stdin.map { try readBytes($0, what: "--stdin file") } ?? []
        var limits = profile.limits
        if let timeLimit {
            limits.cpuTimeSeconds = timeLimit
            limits.wallTimeSeconds = timeLimit * 2 + 1
        }
        if let memoryLimit { limits.memoryBytes = memoryLimit << 20 }

        let sandbox = try sandboxOptions.makeSandbox()
        let result = try sandbox.run(source: code, profile: profile, stdin: input, limits: limits)
        if json {
            print(RunReport(result).jsonLine())
        } else {
            FileHandle.standardOutput.write(Data(result.stdout))
            var line = (result.stdout.isEmpty || result.stdout.last == UInt8(ascii: "\n") ? "" : "\n") + "[\(result.verdict.rawValue)]"
            if let clock = result.timeLimitClock { line += " (\(clock.rawValue))" }
            if let code = result.exitCode { line += " exit \(code)" }
            if let signal = result.signal { line += " signal \(signal)" }
            line += String(format: "  cpu %.1f ms  wall %.1f ms  memory %.1f MiB",
                           result.cpuMilliseconds, result.wallMilliseconds, Double(result.memoryBytes) / 1048576)
            if result.outputTruncated { line += "  (output truncated)" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
            if !result.stderr.isEmpty { FileHandle.standardError.write(Data(result.stderr)) }
            if let compile = result.compileOutput { FileHandle.standardError.write(Data(compile.utf8)) }
        }
    }
}

/// The `--json` shape of a run (stable field names for scripts).
struct RunReport: Encodable {
    var status: String
    var exit_code: Int32?
    var signal: Int32?
    var time_limit_clock: String?
    var cpu_ms: Double
    var wall_ms: Double
    var memory_bytes: Int
    var stdout: String
    var stderr: String
    var output_truncated: Bool
    var compile_output: String?

    init(_ r: RunResult) {
        status = r.verdict.rawValue
        exit_code = r.exitCode
        signal = r.signal
        time_limit_clock = r.timeLimitClock?.rawValue
        cpu_ms = (r.cpuMilliseconds * 1000).rounded() / 1000
        wall_ms = (r.wallMilliseconds * 1000).rounded() / 1000
        memory_bytes = r.memoryBytes
        stdout = r.stdoutText
        stderr = r.stderrText
        output_truncated = r.outputTruncated
        compile_output = r.compileOutput
    }

    enum CodingKeys: String, CodingKey {
        case status, exit_code, signal, time_limit_clock, cpu_ms, wall_ms, memory_bytes, stdout, stderr
        case output_truncated, compile_output
    }

    /// Every key is always present: absent values are `null`, so scripts can index blindly.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(exit_code, forKey: .exit_code)
        try c.encode(signal, forKey: .signal)
        try c.encode(time_limit_clock, forKey: .time_limit_clock)
        try c.encode(cpu_ms, forKey: .cpu_ms)
        try c.encode(wall_ms, forKey: .wall_ms)
        try c.encode(memory_bytes, forKey: .memory_bytes)
        try c.encode(stdout, forKey: .stdout)
        try c.encode(stderr, forKey: .stderr)
        try c.encode(output_truncated, forKey: .output_truncated)
        try c.encode(compile_output, forKey: .compile_output)
    }

    func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
