import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// Builds the grading server: routes, middleware, the worker pool and the job runner.
/// Tests call this directly (`app.test(.router)`); `assay serve` runs it with `runService()`.
/// - Throws: ``ServerConfigurationError`` for unsafe settings; job store errors.
public func buildApplication(_ config: ServerConfiguration) async throws -> some ApplicationProtocol {
    try config.validate()
    let services = try ServerServices(configuration: config)
    let runner = config.runJobs ? JobRunner(services: services) : nil

    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: services.metrics))
    router.add(middleware: RouteFallbackMiddleware())
    if let token = config.token { router.add(middleware: BearerTokenMiddleware(token: Array(token.utf8))) }
    OpsController(services: services).addRoutes(to: router)
    RunCodeController(services: services).addRoutes(to: router)
    GradeController(services: services, runner: runner).addRoutes(to: router)
    OpenRLHFController(services: services).addRoutes(to: router)

    let onRunning = config.onServerRunning
    let http = HTTP1Channel.Configuration(additionalChannelHandlers: [CloseAfterResponseHandler(), ParseErrorAnswerHandler()],
                                          idleTimeout: .seconds(Int64(config.idleTimeoutSeconds)))
    var app = Application(
        router: router,
        server: .http1(configuration: http),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "assay"),
        onServerRunning: { channel in await onRunning?(channel.localAddress?.port ?? 0) },
        logger: config.logger)
    // Services stop in reverse order, after the HTTP server has drained its requests: the job
    // runner first (running items finish and are stored), then the pool's threads.
    app.addServices(PoolService(pools: [services.pool, services.runCodePool]))
    if let runner { app.addServices(runner) }
    return app
}

/// Ends the pools' threads on shutdown, after the work already queued has run.
struct PoolService: Service {
    let pools: [WorkerPool]
    func run() async throws {
        try? await gracefulShutdown()
        await withTaskGroup(of: Void.self) { group in
            for pool in pools { group.addTask { await pool.drain() } }
        }
    }
}

/// Runs the server until SIGTERM or SIGINT, then drains (what `assay serve` does).
public func runServer(_ config: ServerConfiguration) async throws {
    let app = try await buildApplication(config)
    try await app.runService()
}

/// A server started in this process on a loopback port (benchmarks, integration tests).
public final class InProcessServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts `config` (its port forced to 0: a free one) and returns once it listens. Given an
    /// `executor`, the server's tasks prefer it to Swift's cooperative pool: a test process whose
    /// other tests block that pool's few threads then cannot starve the server.
    public static func start(_ config: ServerConfiguration, executor: (any TaskExecutor)? = nil) async throws -> InProcessServer {
        var config = config
        config.port = 0
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let previous = config.onServerRunning
        config.onServerRunning = { port in
            continuation.yield(port)
            await previous?(port)
        }
        let app = try await buildApplication(config)
        let group = ServiceGroup(configuration: .init(services: [app], logger: config.logger))
        let task = Task(executorPreference: executor) { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw ServerConfigurationError("the in-process server did not report a port")
        }
        return InProcessServer(port: port, group: group, task: task)
    }

    /// Graceful shutdown, as on SIGTERM; returns when everything has drained.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
