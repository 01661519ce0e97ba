import COpenBLAS
import Dispatch
import Foundation
import Synchronization

// MARK: - Parallel loops over independent work

/// Worker threads for the kernels' own loops: one per core the process may use, unless
/// ``EngineThreads/limit(to:)`` gave fewer.
var kernelWorkers: Int { EngineThreads.budget.load(ordering: .relaxed) }

/// How many cores the engine's kernels use (its own loops and OpenBLAS).
///
/// Two models working at once (the trainer's sampler and learner, pipelined) must each stay on
/// their share: with a budget of 1 every kernel runs on its calling thread and OpenBLAS is
/// single-threaded, so neither changes OpenBLAS's process-global thread count under the other.
public enum EngineThreads {
    static let budget = Atomic<Int>(max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// Cores the engine may use now.
    public static var current: Int { budget.load(ordering: .relaxed) }

    /// Sets the engine's cores (at least 1) for kernels started from now on.
    public static func limit(to cores: Int) {
        let n = max(1, cores)
        budget.store(n, ordering: .relaxed)
        openblas_set_num_threads(Int32(n))
    }
}

/// Runs `body` over `0..<count` split into one contiguous chunk per core.
///
/// Attention is many small GEMMs (one per head); OpenBLAS threads each of them and pays a fork/join per call,
/// which leaves cores idle. Running whole heads on separate threads with OpenBLAS single-threaded inside
/// keeps every core busy instead. OpenBLAS's thread count is process-global, so it is restored afterwards; the
/// engine runs one kernel at a time, which is what makes this safe.
///
/// - Parameters:
///   - count: independent work items; items in different chunks must not write the same memory.
///   - minimumPerChunk: below this many items per worker the loop runs inline (threads cost more than they save).
///   - callsBLAS: whether `body` calls OpenBLAS, which must then run single-threaded inside each chunk.
func parallelChunks(_ count: Int, minimumPerChunk: Int = 1, callsBLAS: Bool = false, _ body: (Range<Int>) -> Void) {
    let workers = min(kernelWorkers, count / max(minimumPerChunk, 1))
    if workers <= 1 {
        body(0..<count)
        return
    }
    let blasThreads = openblas_get_num_threads()
    if callsBLAS { openblas_set_num_threads(1) }
    defer { if callsBLAS { openblas_set_num_threads(blasThreads) } }
    // The chunks write disjoint memory (the caller's contract), which the compiler cannot see through raw
    // pointers; hence the unchecked hand-off to the worker threads.
    withoutActuallyEscaping(body) { escaping in
        nonisolated(unsafe) let work = escaping
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            work((count * w / workers)..<(count * (w + 1) / workers))
        }
    }
}
