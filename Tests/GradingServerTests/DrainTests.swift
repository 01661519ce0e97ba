import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Synchronization
import Testing

/// A stop reaches the job runner only after two unstructured `Task {}`s of the frameworks have
/// run: ServiceLifecycle's (an inner service group hears of the outer one's shutdown through a
/// `CancellationWaiter` task) and Hummingbird's (its HTTP server starts its drain in one). Those
/// do not inherit a task executor preference, so they run on Swift's global executor whatever
/// `ServerThreads` does; in the full suite its default-priority threads (one per core) are held
/// by the synchronous tests of the other suites, queued by the hundred, and the runner heard of
/// the stop only after minutes, or not within the test's 60 s. The servers here therefore start
/// at high priority: a task created inside them inherits it, and the global executor (libdispatch
/// on Linux) serves each priority with threads of its own, which no blocking test holds. (Checked
/// by holding every default-priority thread during the stop: at default priority the runner never
/// heard of it within 60 s, at high priority within 20 ms.)
@Suite("Graceful shutdown (SIGTERM path)", .onServerThreads)
struct DrainTests {
    /// `InProcessServer.start` from a task at high priority, so that the server's tasks, the
    /// frameworks' unstructured ones included, inherit it (see above).
    static func start(_ config: ServerConfiguration) async throws -> InProcessServer {
        try await Task(executorPreference: ServerThreads.shared, priority: .high) {
            try await InProcessServer.start(config, executor: ServerThreads.shared)
        }.value
    }

    @Test func inFlightRequestsCompleteWhenTheServerStops() async throws {
        let backend = StubBackend()
        let server = try await Self.start(TestEnv.config(backend) { $0.workers = 1 })
        let response = Task(executorPreference: ServerThreads.shared) {
            try await TestClient.withClient(host: "127.0.0.1", port: server.port) { client in
                try await client.post("/v1/grade", body: body(echoItems(10, code: "GATED", tag: "d")))
            }
        }
        // The first item waits at the gate: the request is in flight when the stop begins.
        try #require(try await backend.gate.waitForWaiters(1), "no item of the request reached the backend")
        let stopped = Mutex(false)
        let stopping = Task(executorPreference: ServerThreads.shared) {
            try await server.stop()  // what SIGTERM triggers
            stopped.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!stopped.withLock { $0 }, "the server finished stopping with a request in flight")
        backend.gate.open()
        try await stopping.value
        let r = try await response.value
        #expect(r.status == .ok)
        let results = try JSONValue(parsing: String(buffer: r.body ?? ByteBuffer()))["results"]?.arrayValue ?? []
        #expect(results.count == 10)
        #expect(results.allSatisfy { $0["reward"] == 1 })
        #expect(backend.totalRuns == 10)
    }

    @Test func aStoppedServerLeavesTheRestOfAJobForTheNextStart() async throws {
        let path = TestEnv.tempPath("drain")
        let backend = StubBackend()
        let log = LogCapture()
        let server = try await Self.start(TestEnv.config(backend) { $0.workers = 1; $0.databasePath = path; $0.logger = log.logger })
        let id = try await TestClient.withClient(host: "127.0.0.1", port: server.port) { client in
            let r = try await client.post("/v1/jobs", body: body(echoItems(40, code: "GATED", tag: "j")))
            #expect(r.status == .accepted)
            return try #require(try JSONValue(parsing: String(buffer: r.body ?? ByteBuffer()))["id"]?.stringValue)
        }
        // The first item is held at the gate until the job runner has been told to stop (after
        // the HTTP server drained); once it finishes, the runner starts no more.
        try #require(try await backend.gate.waitForWaiters(1), "no item of the job reached the backend")
        let stopping = Task(executorPreference: ServerThreads.shared) { try await server.stop() }
        try #require(try await log.waitFor("job runner stopping"), "the job runner never heard of the stop")
        backend.gate.open()
        try await stopping.value
        let store = try JobStore(path: path)
        let mid = try #require(try await store.snapshot(id))
        #expect(mid.state == "running")
        #expect(mid.completed > 0)
        #expect(mid.completed < 40)
        #expect(mid.completed == backend.totalRuns, "every item that ran was stored")

        let again = try await Self.start(TestEnv.config(backend) { $0.workers = 2; $0.databasePath = path })
        // A liveness bound (60 s, as `eventually`), not a measure of speed.
        for _ in 0..<3000 {
            if try await store.snapshot(id, withResults: false)?.state == "done" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await again.stop()
        let done = try #require(try await store.snapshot(id))
        #expect(done.state == "done")
        #expect(done.results.count == 40)
        #expect(backend.totalRuns == 40)
        #expect(backend.runs.withLock { $0.values.allSatisfy { $0 == 1 } })
        #expect(try await store.storeCounts(id).allSatisfy { $0 == 1 })
    }
}
