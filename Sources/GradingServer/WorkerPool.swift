import Foundation
import Synchronization

/// Why the pool did not run a piece of work.
public enum PoolRejection: Error, Sendable, Equatable {
    /// The bounded queue is full: answer 429 and let the client retry later.
    case queueFull(retryAfterSeconds: Int)
    /// The work waited in the queue past its deadline and was dropped unrun.
    case deadlineExceeded
    /// The pool is draining for shutdown and takes no new work.
    case shuttingDown
}

/// A fixed set of threads fed by a bounded FIFO queue.
///
/// `Sandbox.run` blocks its thread until the program ends, so sandbox work must never run on
/// Swift's cooperative pool (a few blocked runs would stall every request on the server). Each
/// job here runs on one of `threads` dedicated `Thread`s; callers `await` it through a
/// continuation, so an awaiting request holds no thread at all.
public final class WorkerPool: Sendable {
    private struct Work {
        var deadline: ContinuousClock.Instant?
        /// Taken once, by whichever comes first: a worker starting the work, or its deadline
        /// passing while it waits (a timer answers it then, not when a worker gets to it).
        var claim: Claim
        var body: @Sendable (_ expired: Bool) -> Void
    }

    private final class Claim: Sendable {
        private let taken = Atomic<Bool>(false)
        /// True for the one caller that takes it.
        func take() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
    }

    private struct State {
        var queue: [Work?] = []
        var head = 0
        var running = 0
        var stopping = false
        /// Exponentially weighted mean of a job's run time (seconds), for Retry-After.
        var meanSeconds = 0.2

        var waiting: Int { queue.count - head }

        mutating func pop() -> Work? {
            guard head < queue.count else { return nil }
            let w = queue[head]
            queue[head] = nil
            head += 1
            // Compact once the consumed prefix dominates (amortised O(1)).
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return w
        }
    }

    /// Number of threads (runs executing at once).
    public let threads: Int
    /// Most jobs waiting (not yet running) that requests may add; job-runner work bypasses it.
    public let capacity: Int
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    public init(threads: Int, capacity: Int) {
        precondition(threads >= 1 && capacity >= 1)
        self.threads = threads
        self.capacity = capacity
        for n in 0..<threads {
            let t = Thread { [self] in self.loop() }
            t.name = "assay-worker-\(n)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Jobs waiting for a thread.
    public var queueDepth: Int { state.withLock { $0.waiting } }
    /// True once ``stopAndWait()`` began: new work is refused.
    public var isStopping: Bool { state.withLock { $0.stopping } }
    /// Jobs running now.
    public var inFlight: Int { state.withLock { $0.running } }

    private func loop() {
        while true {
            available.wait()
            let next: Work?? = state.withLock { s in
                guard let w = s.pop() else { return .some(nil) }  // a stop marker
                s.running += 1
                return .some(w)
            }
            guard let work = next ?? nil else { break }
            guard work.claim.take() else {  // already answered by its deadline's timer
                state.withLock { $0.running -= 1 }
                continue
            }
            let expired = work.deadline.map { ContinuousClock.now > $0 } ?? false
            let start = ContinuousClock.now
            work.body(expired)
            let seconds = (ContinuousClock.now - start).seconds
            state.withLock { s in
                s.running -= 1
                if !expired { s.meanSeconds = s.meanSeconds * 0.9 + seconds * 0.1 }
            }
        }
        finished.signal()
    }

    /// Reserves room for `count` jobs, or says how long to wait. Requests call this once for a
    /// whole batch so that a batch is admitted or refused as one.
    public func admit(_ count: Int) throws(PoolRejection) {
        let verdict: PoolRejection? = state.withLock { s in
            if s.stopping { return .shuttingDown }
            if s.waiting + count > capacity {
                let seconds = Double(s.waiting + count) * s.meanSeconds / Double(threads)
                return .queueFull(retryAfterSeconds: max(1, min(60, Int(seconds.rounded(.up)))))
            }
            return nil
        }
        if let verdict { throw verdict }
    }

    /// Runs `body` on a pool thread and returns its result.
    /// - Parameters:
    ///   - deadline: work still queued at this instant is dropped (``PoolRejection/deadlineExceeded``).
    ///   - checkCapacity: false for work already admitted (``admit(_:)``) or from the job runner,
    ///     which bounds its own concurrency.
    public func run<T: Sendable>(deadline: ContinuousClock.Instant? = nil, checkCapacity: Bool = true,
                                 _ body: @escaping @Sendable () -> T) async throws(PoolRejection) -> T {
        if checkCapacity { try admit(1) }
        let result: Result<T, PoolRejection> = await withCheckedContinuation { continuation in
            let claim = Claim()
            let work = Work(deadline: deadline, claim: claim) { expired in
                continuation.resume(returning: expired ? .failure(.deadlineExceeded) : .success(body()))
            }
            let accepted = state.withLock { s in
                guard !s.stopping else { return false }
                s.queue.append(work)
                return true
            }
            guard accepted else { return continuation.resume(returning: .failure(.shuttingDown)) }
            available.signal()
            if let deadline {
                // A request still queued at its deadline is answered then (504 for /run_code), so
                // the client hears it within its own timeout, not whenever a worker frees up.
                Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if claim.take() { continuation.resume(returning: .failure(.deadlineExceeded)) }
                }
            }
        }
        return try result.get()
    }

    /// Refuses new work, lets every queued job run, then ends the threads. Blocks until they end:
    /// call it from a thread that may block (``drain()`` does that for async callers).
    public func stopAndWait() {
        let already = state.withLock { s in
            defer { s.stopping = true }
            if !s.stopping { for _ in 0..<threads { s.queue.append(nil) } }
            return s.stopping
        }
        guard !already else { return }
        for _ in 0..<threads { available.signal() }
        for _ in 0..<threads { finished.wait() }
    }

    /// ``stopAndWait()`` without blocking the caller's executor.
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let t = Thread { [self] in
                self.stopAndWait()
                c.resume()
            }
            t.start()
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
