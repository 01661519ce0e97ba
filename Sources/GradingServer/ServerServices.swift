import Hummingbird
import Logging
import Rewards
import Sandboxing

/// What every controller shares: configuration, backend, pool, job store, metrics.
final class ServerServices: Sendable {
    let configuration: ServerConfiguration
    let backend: any ExecutionBackend
    /// Graded runs (`/v1/grade`, jobs, `/get_reward`): one box per worker.
    let pool: WorkerPool
    /// `/run_code` runs: up to `runCodeConcurrency` boxes at once (wall-clock `run_timeout`).
    let runCodePool: WorkerPool
    let metrics = Metrics()
    let jobs: JobStore
    let engine: GradingEngine
    let dataSets: DataSets

    init(configuration: ServerConfiguration) throws {
        self.configuration = configuration
        self.backend = configuration.backend
        self.dataSets = configuration.dataSets
        self.pool = WorkerPool(threads: configuration.workers, capacity: configuration.effectiveQueueCapacity)
        self.runCodePool = WorkerPool(threads: configuration.runCodeConcurrency, capacity: configuration.effectiveQueueCapacity,
                                      name: "assay-run-code")
        self.jobs = try JobStore(path: configuration.databasePath)
        self.engine = GradingEngine(executor: configuration.backend.submissionExecutor)
    }

    /// The HTTP answer to work `pool` (the workers' by default) refused.
    func httpError(for error: any Error, pool: WorkerPool? = nil) -> any Error {
        guard let rejection = error as? PoolRejection else { return error }
        let pool = pool ?? self.pool
        switch rejection {
        case .queueFull(let seconds):
            metrics.recordRejected("queue_full")
            return HTTPError(.tooManyRequests, headers: [.retryAfter: "\(seconds)"],
                             message: "the run queue is full (\(pool.capacity) waiting runs, \(pool.threads) \(pool === runCodePool ? "run_code boxes" : "workers")); retry after \(seconds) s")
        case .deadlineExceeded:
            metrics.recordRejected("deadline")
            return HTTPError(.gatewayTimeout, message: "the run waited in the queue past its deadline without starting; the server is overloaded, retry later")
        case .shuttingDown:
            metrics.recordRejected("shutting_down")
            return HTTPError(.serviceUnavailable, headers: [.retryAfter: "5"], message: "the server is shutting down; retry on another instance or after it restarts")
        }
    }

    /// Grades one item on the pool; a refusal or deadline becomes that item's error, never the batch's.
    func grade(_ item: GradeItem, options: GradeOptions, deadline: ContinuousClock.Instant?) async -> JSONValue {
        let engine = self.engine
        do throws(PoolRejection) {
            let (result, ms) = try await pool.run(deadline: deadline, checkCapacity: false) { engine.grade(item, options: options) }
            metrics.recordGrade(reason: result.reason, testVerdicts: result.tests.map(\.verdict.rawValue),
                                testWallMs: result.tests.map(\.wallMilliseconds))
            return GradeOutput.item(item, result, elapsedMs: ms)
        } catch {
            let message: String
            switch error {
            case .deadlineExceeded:
                metrics.recordRejected("deadline")
                message = "not graded: the item waited in the queue past the \(Int(configuration.gradeQueueSeconds)) s deadline (server overloaded; retry it)"
            case .shuttingDown:
                metrics.recordRejected("shutting_down")
                message = "not graded: the server is shutting down"
            case .queueFull:
                message = "not graded: the run queue is full"
            }
            metrics.recordGrade(reason: "error", testVerdicts: [], testWallMs: [])
            return GradeOutput.failed(item, message)
        }
    }

    /// Grades a synchronous batch: admitted as a whole (429 otherwise), items run in parallel.
    func gradeBatch(_ batch: GradeBatch) async throws -> [JSONValue] {
        do { try pool.admit(batch.items.count) } catch { throw httpError(for: error) }
        let deadline = ContinuousClock.now + .seconds(configuration.gradeQueueSeconds)
        return await withTaskGroup(of: (Int, JSONValue).self) { group in
            // By position: with `invalid_items: "error"` the items' own indices have gaps.
            for (position, item) in batch.items.enumerated() {
                group.addTask { (position, await self.grade(item, options: batch.options, deadline: deadline)) }
            }
            var results = [JSONValue](repeating: .null, count: batch.items.count)
            for await (i, r) in group { results[i] = r }
            return results
        }
    }

    /// Grades an item stored with a job (parsed again: the data sets may have changed since).
    /// Nil when the pool is shutting down: the item stays pending for the next start.
    func gradeStored(itemJSON: String, index: Int, options: GradeOptions) async -> JSONValue? {
        let item: GradeItem
        do {
            let raw = try JSONValue(parsing: itemJSON)
            item = try GradeBatch.parseItem(raw, index: index, dataSets: dataSets)
        } catch {
            let message = (error as? HTTPError)?.body ?? "\(error)"
            return .object([("index", .number(index)), ("reward", .null), ("reason", .string("error")),
                            ("tests_selected", .number(0)), ("tests", .array([])), ("error", .string("the stored item cannot be graded: \(message)"))])
        }
        guard !pool.isStopping else { return nil }
        let result = await grade(item, options: options, deadline: nil)
        // Refused because the pool began draining between the check and the submit.
        if pool.isStopping, result["error"]?.stringValue == "not graded: the server is shutting down" { return nil }
        return result
    }
}
