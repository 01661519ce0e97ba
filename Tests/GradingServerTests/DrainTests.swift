import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Synchronization
import Testing

@Suite("Graceful shutdown (SIGTERM path)", .onServerThreads)
struct DrainTests {
    @Test func inFlightRequestsCompleteWhenTheServerStops() async throws {
        let backend = StubBackend()
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.workers = 1 }, executor: ServerThreads.shared)
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

    @Test(.disabled("fails in the full suite since #13's server changes (the job runner never logs its stop; passes alone): to be fixed before it is trusted again"))
    func aStoppedServerLeavesTheRestOfAJobForTheNextStart() async throws {
        let path = TestEnv.tempPath("drain")
        let backend = StubBackend()
        let log = LogCapture()
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.workers = 1; $0.databasePath = path; $0.logger = log.logger },
                                                     executor: ServerThreads.shared)
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

        let again = try await InProcessServer.start(TestEnv.config(backend) { $0.workers = 2; $0.databasePath = path }, executor: ServerThreads.shared)
        for _ in 0..<300 {
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
