import Foundation
import Synchronization

/// Runs `body(i)` once on each of `count` dedicated threads and returns, in no order, the errors
/// they threw. Blocking clients (`LoopbackHTTPConnection`) need their own threads: on Swift's
/// cooperative pool they would hold the threads the server itself runs on.
public func onBlockingThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) async -> [any Error] {
    let failures = Mutex<[any Error]>([])
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let remaining = Mutex(count)
        for i in 0..<count {
            let thread = Thread {
                do { try body(i) } catch { failures.withLock { $0.append(error) } }
                if remaining.withLock({ $0 -= 1; return $0 }) == 0 { done.resume() }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
    return failures.withLock { $0 }
}
