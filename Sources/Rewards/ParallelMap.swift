import Foundation

/// `body` over `items` on `jobs` dedicated threads, results in input order. Sandbox runs block
/// their thread for the whole run, so they never go on Swift's cooperative pool (a few blocked
/// runs would starve it); the 8 MiB stacks leave room for deeply nested JSON values.
public enum ParallelMap {
    private final class State<R>: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var results: [R?]
        init(_ n: Int) { results = Array(repeating: nil, count: n) }
    }

    public static func run<T: Sendable, R: Sendable>(_ items: [T], jobs: Int, _ body: @escaping @Sendable (T) -> R) -> [R] {
        let state = State<R>(items.count)
        let group = DispatchGroup()
        for _ in 0..<min(max(jobs, 1), max(items.count, 1)) {
            group.enter()
            let thread = Thread {
                while true {
                    state.lock.lock()
                    let i = state.next
                    state.next += 1
                    state.lock.unlock()
                    guard i < items.count else { break }
                    let r = body(items[i])
                    state.lock.lock()
                    state.results[i] = r
                    state.lock.unlock()
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return state.results.map { $0! }
    }
}
