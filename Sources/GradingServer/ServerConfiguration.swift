import Foundation
import Logging

/// A configuration the server refuses to start with, saying why.
public struct ServerConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `buildApplication` needs; the CLI fills it from flags, tests build it directly.
public struct ServerConfiguration: Sendable {
    /// Address to bind. Loopback by default: binding elsewhere requires a bearer token.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one (see ``ServerConfiguration/onServerRunning``).
    public var port: Int = 8080
    /// Graded runs at once (`/v1/grade`, jobs, `/get_reward`: one box per worker, CPU-time
    /// limits); default: the machine's cores.
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// `/run_code` boxes at once. SandboxFusion runs every request at once with a wall-clock
    /// `run_timeout`; assay admits up to this many (oversubscribing the cores, as SandboxFusion
    /// does) so a burst of time-outs ends within its `run_timeout`, and queues the rest (504 at
    /// ``runCodeQueueSeconds``). Memory bounds it: each box may use its `memory_limit_MB`.
    /// Default: ``runCodeBoxesPerCore`` per core.
    public var runCodeConcurrency: Int = ServerConfiguration.defaultRunCodeConcurrency
    /// Most runs waiting for a worker that requests may add; beyond it, 429 with Retry-After.
    /// Default: max(maxBatchItems, 256 per worker).
    public var queueCapacity: Int?
    /// Bearer token every endpoint but `/healthz` requires (`Authorization: Bearer <token>`).
    public var token: String?
    /// Problems `problem_id` may name.
    public var dataSets = DataSets()
    /// SQLite file of the async jobs; nil: an in-memory store (lost on exit; tests only).
    public var databasePath: String?
    /// What runs the code.
    public var backend: any ExecutionBackend
    /// Largest request body, in bytes (413 beyond).
    public var maxBodyBytes: Int = 16 << 20
    /// Most items in one `POST /v1/grade` (and OpenRLHF) request.
    public var maxBatchItems: Int = 1024
    /// Most items in one async job.
    public var maxJobItems: Int = 100_000
    /// Memory of a `/run_code` box when the request sends `memory_limit_MB: -1`, in MiB.
    public var defaultMemoryMiB: Int = 1024
    /// Longest a `/run_code` request waits in the queue before a 504 (verl's HTTP timeout is
    /// compile + run + 10 s, and verl retries 504 only).
    public var runCodeQueueSeconds: Double = 8
    /// Longest an item of a synchronous batch waits in the queue before it fails with an error
    /// (OpenRLHF's client gives up after 180 s; the `assay` clients wait 300 s).
    public var gradeQueueSeconds: Double = 120
    /// A connection on which nothing arrives for this long is closed, unless a request on it is
    /// being answered: a client idle between requests, one that stopped in the middle of a
    /// request head (a head is counted only once complete) or of a body.
    public var idleTimeoutSeconds: Int = 60
    /// Start the job runner (tests that inspect a job before it runs turn it off).
    public var runJobs = true
    public var logger: Logger = {
        var l = Logger(label: "assay.serve")
        l.logLevel = .info
        return l
    }()
    /// Log warnings and errors only.
    public var quiet: Bool {
        get { logger.logLevel >= .warning }
        set { logger.logLevel = newValue ? .warning : .info }
    }
    /// Called with the bound port once the server listens (useful with port 0).
    public var onServerRunning: (@Sendable (Int) async -> Void)?

    public init(backend: any ExecutionBackend) {
        self.backend = backend
    }

    var effectiveQueueCapacity: Int { queueCapacity ?? max(maxBatchItems, workers * 256) }

    /// `/run_code` boxes per core by default: 32 CPU-bound boxes on a core give each 1/32 of it,
    /// so a program that needs 0.3 s of CPU still ends inside verl's 10 s `run_timeout`.
    public static let runCodeBoxesPerCore = 32
    /// Most `/run_code` boxes at once (the sandbox has 4096 uids, shared with the workers).
    public static let maxRunCodeConcurrency = 2048
    public static var defaultRunCodeConcurrency: Int {
        min(maxRunCodeConcurrency, runCodeBoxesPerCore * max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Refuses unsafe or nonsensical settings with a message that says what to do.
    public func validate() throws {
        guard (1...1024).contains(workers) else { throw ServerConfigurationError("--workers must be between 1 and 1024, got \(workers)") }
        guard (1...Self.maxRunCodeConcurrency).contains(runCodeConcurrency) else {
            throw ServerConfigurationError("--run-code-concurrency must be between 1 and \(Self.maxRunCodeConcurrency), got \(runCodeConcurrency)")
        }
        guard (0...65535).contains(port) else { throw ServerConfigurationError("--port must be between 0 and 65535, got \(port)") }
        guard (1...3600).contains(idleTimeoutSeconds) else {
            throw ServerConfigurationError("--idle-timeout must be between 1 and 3600 seconds, got \(idleTimeoutSeconds)")
        }
        if let token, token.count < 16 {
            throw ServerConfigurationError("the bearer token is \(token.count) characters; use at least 16 (e.g. `openssl rand -hex 32 > token`)")
        }
        if !Self.isLoopback(host), token == nil {
            throw ServerConfigurationError("refusing to bind \(host) without a bearer token: anyone who can reach it could run code on this machine. Pass --token-file FILE, or bind 127.0.0.1")
        }
        guard effectiveQueueCapacity >= 1, maxBatchItems >= 1, maxBodyBytes >= 1024 else {
            throw ServerConfigurationError("queue capacity, batch items and body limit must be positive")
        }
    }

    /// Reads a token file: its first line, trimmed; an empty or unreadable file is an error.
    public static func readToken(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerConfigurationError("cannot read the token file '\(path)'")
        }
        let token = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ServerConfigurationError("the token file '\(path)' is empty") }
        return token
    }
}
