import Foundation
import GradingServer
import Testing

/// Work still queued when its deadline passes is answered at the deadline (a 504 for
/// `/run_code`), not when a worker finally picks it up: a client must hear back within its own
/// timeout even while every worker is busy for much longer.
@Suite("Queue deadlines", .onServerThreads)
struct QueueDeadlineTests {
    /// What the queued work was answered, once it was.
    final class Answer: @unchecked Sendable {
        private let lock = NSLock()
        private var value: PoolRejection??
        func set(_ v: PoolRejection?) { lock.withLock { value = .some(v) } }
        var get: PoolRejection?? { lock.withLock { value } }
    }

    /// The tasks that submit the work prefer `ServerThreads` explicitly: an unstructured `Task {}`
    /// does not inherit the suite's executor preference and runs on Swift's cooperative pool,
    /// which the blocking suites beside this one hold in the full suite, so the held job was
    /// never even submitted within 60 s. (The deadline's timer has a thread of its own for the
    /// same reason: it used to be a `Task` on that pool too.)
    @Test func queuedWorkIsRefusedAtItsDeadlineWhileTheWorkersAreBusy() async throws {
        let pool = WorkerPool(threads: 1, capacity: 8)
        let gate = Gate()
        // The only worker is held until the test opens the gate, after the queued work's answer.
        let busy = Task(executorPreference: ServerThreads.shared) { try await pool.run { gate.pass() } }
        #expect(try await eventually { pool.inFlight == 1 })
        let answer = Answer()
        let queued = Task(executorPreference: ServerThreads.shared) {
            do throws(PoolRejection) {
                try await pool.run(deadline: .now + .milliseconds(200)) {}
                answer.set(nil)
            } catch { answer.set(error) }
        }
        // Polled with a liveness bound only (60 s): without the deadline's own timer the answer
        // would wait for the gate, which opens only after this.
        let answered = try await eventually { answer.get != nil }
        #expect(answered && answer.get == .some(.deadlineExceeded),
                "the queued work was not refused at its deadline while the worker was busy: \(String(describing: answer.get))")
        gate.open()
        try await busy.value
        await queued.value
        #expect(try await eventually { pool.queueDepth == 0 && pool.inFlight == 0 })
        await pool.drain()
    }
}
