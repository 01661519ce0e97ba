import Logging
import Rewards
import ServiceLifecycle

/// Runs stored jobs, oldest first, item by item on the worker pool (at most one item per worker
/// at once, so jobs never crowd out synchronous requests' queue room).
///
/// Graceful shutdown (SIGTERM): it stops starting items, lets the running ones finish and store
/// their results, then returns; items not started stay in the store for the next start.
final class JobRunner: Service, Sendable {
    let services: ServerServices
    let wake: AsyncStream<Void>
    let wakeContinuation: AsyncStream<Void>.Continuation

    init(services: ServerServices) {
        self.services = services
        (wake, wakeContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// A job was stored: look for work now.
    func notify() { wakeContinuation.yield() }

    func run() async throws {
        let stopping = ManagedFlag()
        let logger = services.configuration.logger
        try await withGracefulShutdownHandler {
            var iterator = wake.makeAsyncIterator()
            var failing: Set<String> = []
            while !stopping.value && !Task.isCancelled {
                let pending: JobStore.Pending?
                do { pending = try await services.jobs.nextPending(excluding: failing) } catch {
                    logger.error("job store read failed", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                guard let pending else {
                    // Sleep until a submission (or shutdown) wakes us.
                    _ = await iterator.next()
                    continue
                }
                if pending.items.isEmpty {
                    failing.insert(pending.id)  // settled by the store; never spin on it
                    continue
                }
                if !(await process(pending, stopping: stopping, logger: logger)) {
                    failing.insert(pending.id)  // the store refused writes for it; do not spin
                }
            }
        } onGracefulShutdown: { [wakeContinuation] in
            logger.info("job runner stopping: running items finish and are stored, the rest stay pending for the next start")
            stopping.set()
            wakeContinuation.yield()
        }
    }

    /// Grades the job's pending items; false when storing results failed.
    func process(_ job: JobStore.Pending, stopping: ManagedFlag, logger: Logger) async -> Bool {
        let options: GradeOptions
        do {
            let value = try JSONValue(parsing: job.options)
            options = try GradeOptions.parse(value.isNull ? nil : try Fields(value, path: "options"))
        } catch {
            options = GradeOptions()
        }
        let limit = services.pool.threads
        var ok = true
        await withTaskGroup(of: Bool.self) { group in
            var running = 0
            for (index, text) in job.items {
                if stopping.value { break }
                if running >= limit {
                    if await group.next() == false { ok = false }
                    running -= 1
                }
                running += 1
                group.addTask { [services] in
                    guard let result = await services.gradeStored(itemJSON: text, index: index, options: options) else {
                        return true  // not run (shutdown): stays pending in the store
                    }
                    do {
                        let stored = try await services.jobs.storeResult(jobID: job.id, index: index, json: result.jsonText)
                        services.metrics.recordJobResult(duplicate: !stored)
                        return true
                    } catch {
                        logger.error("storing a job result failed", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
                        return false
                    }
                }
            }
            for await r in group where !r { ok = false }
        }
        return ok
    }
}

/// A flag set once from any thread.
final class ManagedFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

import Synchronization
