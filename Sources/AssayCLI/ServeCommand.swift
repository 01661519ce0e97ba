import ArgumentParser
import Foundation
import GradingServer
import Sandboxing

/// `assay serve`: the batch grading daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve grading over HTTP: SandboxFusion /run_code, native batch /v1/grade, durable /v1/jobs, OpenRLHF /get_reward.",
        discussion: """
            Binds 127.0.0.1 by default. Binding any other address requires --token-file: every endpoint but /healthz \
            then needs 'Authorization: Bearer <token>'. SIGTERM drains in-flight work; jobs not finished are resumed \
            from --db at the next start. The API is described at GET /openapi.json.
            """)

    @Option(help: "Address to bind (loopback by default; anything else needs --token-file).")
    var host = "127.0.0.1"

    @Option(help: "TCP port.")
    var port = 8080

    @Option(help: "Graded runs at once for /v1/grade, jobs and /get_reward (default: the machine's cores).")
    var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(name: .customLong("run-code-concurrency"),
            help: "/run_code boxes at once; run_timeout is wall-clock there, as in SandboxFusion (default: \(ServerConfiguration.runCodeBoxesPerCore) per core; each box may use its memory_limit_MB).")
    var runCodeConcurrency: Int = ServerConfiguration.defaultRunCodeConcurrency

    @Option(help: "Directory of problem sets (JSON/JSONL, .gz allowed) that items may name by problem_id.")
    var data: String?

    @Option(name: .customLong("token-file"), help: "File whose first line is the bearer token (at least 16 characters).")
    var tokenFile: String?

    @Option(help: "SQLite file of the durable async jobs.")
    var db = "assay-jobs.sqlite"

    @Option(name: .customLong("queue-capacity"), help: "Runs that may wait for a worker before requests get 429 (default: max(1024, 256 per worker)).")
    var queueCapacity: Int?

    @Option(name: .customLong("max-body-mb"), help: "Largest request body in MiB (jobs: 4 times this).")
    var maxBodyMiB = 16

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may send nothing (between requests, or in the middle of one) before it is closed.")
    var idleTimeoutSeconds = 60

    @OptionGroup var executorOptions: ExecutorOptions

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        guard (1...1024).contains(workers) else { throw ValidationError("--workers must be between 1 and 1024") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...ServerConfiguration.maxRunCodeConcurrency).contains(runCodeConcurrency) else {
            throw ValidationError("--run-code-concurrency must be between 1 and \(ServerConfiguration.maxRunCodeConcurrency)")
        }
        guard (1...1024).contains(maxBodyMiB) else { throw ValidationError("--max-body-mb must be between 1 and 1024") }
        if let queueCapacity, queueCapacity < 1 { throw ValidationError("--queue-capacity must be at least 1") }
    }

    func run() async throws {
        let backend: SandboxBackend
        do {
            let sandbox = try sandboxOptions.makeSandbox()
            let catalog = try ProfileCatalog(directory: sandboxOptions.profilesDirectory)
            backend = try SandboxBackend(sandbox: sandbox, catalog: catalog,
                                         submissionExecutor: try executorOptions.makeExecutor(sandbox: sandbox, catalog: catalog, concurrency: workers))
        } catch let error as SandboxError {
            throw ValidationError(error.description)
        }
        var config = ServerConfiguration(backend: backend)
        config.host = host
        config.port = port
        config.workers = workers
        config.runCodeConcurrency = runCodeConcurrency
        config.queueCapacity = queueCapacity
        config.maxBodyBytes = maxBodyMiB << 20
        config.idleTimeoutSeconds = idleTimeoutSeconds
        config.databasePath = db
        let logger = config.logger
        do {
            if let tokenFile { config.token = try ServerConfiguration.readToken(path: tokenFile) }
            if let data {
                config.dataSets = try DataSets(directory: data)
                for w in config.dataSets.warnings.prefix(20) { logger.warning("data: \(w)") }
                logger.info("loaded \(config.dataSets.problems.count) problems from \(data)")
            }
            try config.validate()
        } catch let error as ServerConfigurationError {
            throw ValidationError(error.description)
        }
        let host = self.host, workers = self.workers, boxes = self.runCodeConcurrency
        config.onServerRunning = { port in
            logger.info("assay serve listening on http://\(host):\(port) with \(workers) workers and \(boxes) /run_code boxes")
        }
        try await runServer(config)
    }
}
