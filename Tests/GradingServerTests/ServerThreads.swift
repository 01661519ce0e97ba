import Foundation
import Synchronization
import Testing

/// A task executor on threads of its own, for the servers the live tests start. Swift Testing
/// runs synchronous tests on the cooperative pool, which has one thread per core; on a 2-core CI
/// machine two suites blocked in sandbox runs leave a server there no thread for a minute, and
/// its clients time out. Jobs run in the order they were enqueued, on whichever thread is free.
final class ServerThreads: TaskExecutor, @unchecked Sendable {
    static let shared = ServerThreads(threads: 16)

    private let jobs = NSCondition()
    private var pending: [UnownedJob] = []

    init(threads: Int) {
        for i in 0..<threads {
            let thread = Thread { self.work() }  // the executor lives as long as the process
            thread.name = "test-server-\(i)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.lock()
        pending.append(job)
        jobs.signal()
        jobs.unlock()
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            jobs.lock()
            while pending.isEmpty { jobs.wait() }
            let job = pending.removeFirst()
            jobs.unlock()
            job.runSynchronously(on: executor)
        }
    }
}

/// Runs each test of a suite on `ServerThreads`: a test that times its steps against a server
/// (stop it 150 ms into a job) must not sit on the cooperative pool's queue meanwhile.
struct OnServerThreads: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(ServerThreads.shared) { try await function() }
    }
}

extension Trait where Self == OnServerThreads {
    static var onServerThreads: Self { OnServerThreads() }
}
