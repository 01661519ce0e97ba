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

/// Up to `threads` dedicated threads fed by a bounded FIFO queue.
///
/// `Sandbox.run` blocks its thread until the program ends, so sandbox work must never run on
/// Swift's cooperative pool (a few blocked runs would stall every request on the server). Each
/// job here runs on one of the pool's own `Thread`s; callers `await` it through a continuation,
/// so an awaiting request holds no thread at all. Threads start when work needs them (never more
/// than `threads`), so a large pool that is mostly idle costs nothing.
///
/// Deadlines are kept by a timer thread of the pool's own, not by a task: a timer on Swift's
/// cooperative pool fires only when that pool has a free thread, which a process whose other
/// code blocks it (a test process) may not have for a minute.
public final class WorkerPool: Sendable {
    private struct Work {
        var deadline: ContinuousClock.Instant?
        /// Taken once, by whichever comes first: a worker starting the work, or its deadline
        /// passing while it waits (the timer answers it then, not when a worker gets to it).
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
        /// Threads started, and those among them waiting for work.
        var started = 0
        var idle = 0
        /// Entries still in the queue that their deadline already answered (skipped when popped).
        var answered = 0
        /// Exponentially weighted mean of a job's run time (seconds), for Retry-After.
        var meanSeconds = 0.2

        /// Entries in the queue, stop markers and answered work included.
        var entries: Int { queue.count - head }
        /// Jobs waiting for a thread.
        var waiting: Int { entries - answered }

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

    /// Most threads (runs executing at once).
    public let threads: Int
    /// Most jobs waiting (not yet running) that requests may add; job-runner work bypasses it.
    public let capacity: Int
    /// Names the threads (`<name>-<n>`).
    public let name: String
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let timer: DeadlineTimer

    public init(threads: Int, capacity: Int, name: String = "assay-worker") {
        precondition(threads >= 1 && capacity >= 1)
        self.threads = threads
        self.capacity = capacity
        self.name = name
        self.timer = DeadlineTimer(name: name + "-deadlines")
    }

    /// Jobs waiting for a thread.
    public var queueDepth: Int { state.withLock { $0.waiting } }
    /// True once ``stopAndWait()`` began: new work is refused.
    public var isStopping: Bool { state.withLock { $0.stopping } }
    /// Jobs running now.
    public var inFlight: Int { state.withLock { $0.running } }
    /// Threads started so far (at most ``threads``).
    public var threadsStarted: Int { state.withLock { $0.started } }

    private func startThread(_ n: Int) {
        let t = Thread { [self] in self.loop() }
        t.name = "\(name)-\(n)"
        t.stackSize = 1 << 20
        t.start()
    }

    private func loop() {
        while true {
            available.wait()
            let next: Work?? = state.withLock { s in
                s.idle -= 1
                guard let w = s.pop() else { return .some(nil) }  // a stop marker
                s.running += 1
                return .some(w)
            }
            guard let work = next ?? nil else { break }
            guard work.claim.take() else {  // already answered by its deadline's timer
                state.withLock { s in
                    s.running -= 1
                    s.answered -= 1
                    s.idle += 1
                }
                continue
            }
            let expired = work.deadline.map { ContinuousClock.now > $0 } ?? false
            let start = ContinuousClock.now
            work.body(expired)
            let seconds = (ContinuousClock.now - start).seconds
            state.withLock { s in
                s.running -= 1
                s.idle += 1
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
            let spawn: Int?? = state.withLock { s in
                guard !s.stopping else { return nil }
                s.queue.append(work)
                // Another thread when the queued work outnumbers the threads waiting for it.
                guard s.entries > s.idle, s.started < threads else { return .some(nil) }
                s.started += 1
                s.idle += 1
                return .some(s.started - 1)
            }
            guard let spawn else { return continuation.resume(returning: .failure(.shuttingDown)) }
            if let n = spawn { startThread(n) }
            available.signal()
            if let deadline {
                // A request still queued at its deadline is answered then (504 for /run_code), so
                // the client hears it within its own timeout, not whenever a worker frees up.
                timer.schedule(at: deadline) { [self] in
                    let won = state.withLock { s in
                        guard claim.take() else { return false }
                        s.answered += 1
                        return true
                    }
                    if won { continuation.resume(returning: .failure(.deadlineExceeded)) }
                }
            }
        }
        return try result.get()
    }

    /// Refuses new work, lets every queued job run, then ends the threads. Blocks until they end:
    /// call it from a thread that may block (``drain()`` does that for async callers).
    public func stopAndWait() {
        let started: Int? = state.withLock { s in
            guard !s.stopping else { return nil }
            s.stopping = true
            for _ in 0..<s.started { s.queue.append(nil) }
            return s.started
        }
        guard let started else { return }
        for _ in 0..<started { available.signal() }
        for _ in 0..<started { finished.wait() }
        timer.stop()
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

/// Calls actions at their instants, on a thread of its own (started with the first action).
final class DeadlineTimer: Sendable {
    private struct Entry {
        var at: ContinuousClock.Instant
        var action: @Sendable () -> Void
    }

    private struct State {
        /// Sorted by `at` from `head` on (deadlines mostly arrive in order: appended).
        var entries: [Entry?] = []
        var head = 0
        var started = false
        var stopped = false
    }

    private let name: String
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String) { self.name = name }

    func schedule(at instant: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        let (start, earliest) = state.withLock { s -> (Bool, Bool) in
            guard !s.stopped else { return (false, false) }
            var i = s.entries.count
            while i > s.head, let e = s.entries[i - 1], e.at > instant { i -= 1 }
            s.entries.insert(Entry(at: instant, action: action), at: i)
            defer { s.started = true }
            return (!s.started, i == s.head)
        }
        if start {
            let t = Thread { [self] in self.loop() }
            t.name = name
            t.stackSize = 256 << 10
            t.start()
        } else if earliest {
            wake.signal()
        }
    }

    /// Ends the thread; actions not yet due are dropped.
    func stop() {
        let running = state.withLock { s in
            defer { s.stopped = true }
            return s.started && !s.stopped
        }
        if running { wake.signal() }
    }

    private func loop() {
        while true {
            let now = ContinuousClock.now
            let (due, next, stopped) = state.withLock { s -> ([Entry], ContinuousClock.Instant?, Bool) in
                var due: [Entry] = []
                while s.head < s.entries.count, let e = s.entries[s.head], e.at <= now {
                    due.append(e)
                    s.entries[s.head] = nil
                    s.head += 1
                }
                if s.head > 256 && s.head * 2 > s.entries.count {
                    s.entries.removeFirst(s.head)
                    s.head = 0
                }
                return (due, s.head < s.entries.count ? s.entries[s.head]?.at : nil, s.stopped)
            }
            if stopped { return }
            for e in due { e.action() }
            if let next {
                let wait = max(0, (next - ContinuousClock.now).seconds)
                _ = wake.wait(timeout: .now() + wait)
            } else {
                wake.wait()
            }
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
