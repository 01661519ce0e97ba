import Foundation
import GradingServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

@Suite("Durable async jobs", .onServerThreads)
struct JobTests {
    /// Polls a job until it is done (bounded: 10 s).
    static func waitDone(_ client: some TestClientProtocol, _ id: String) async throws -> JSONValue {
        for _ in 0..<500 {
            let j = try await client.get("/v1/jobs/\(id)").json
            if j["status"] == "done" { return j }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("job \(id) did not finish in 10 s")
        return .null
    }

    @Test func submitPollAndIdempotencyKey() async throws {
        let app = try await buildApplication(TestEnv.config { $0.databasePath = TestEnv.tempPath("jobs") })
        try await app.test(.router) { client in
            let first = try await client.post("/v1/jobs", echoItems(5), headers: [HTTPField.Name("Idempotency-Key")!: "k-1"])
            #expect(first.status == .accepted, "\(first.text)")
            let id = try #require(try first.json["id"]?.stringValue)
            #expect(first.headers[.location] == "/v1/jobs/\(id)")
            #expect(try first.json["total"] == 5)
            let again = try await client.post("/v1/jobs", echoItems(5), headers: [HTTPField.Name("Idempotency-Key")!: "k-1"])
            #expect(again.status == .ok)
            #expect(try again.json["id"]?.stringValue == id)
            let conflict = try await client.post("/v1/jobs", echoItems(4), headers: [HTTPField.Name("Idempotency-Key")!: "k-1"])
            #expect(conflict.status == .unprocessableContent)
            let done = try await Self.waitDone(client, id)
            #expect(done["completed"] == 5)
            #expect(done["progress"] == 1.0)
            let results = try #require(done["results"]?.arrayValue)
            #expect(results.count == 5)
            #expect(results.map { $0["reward"] } == [1, 1, 1, 1, 1])
            #expect(results.map { $0["index"] } == [0, 1, 2, 3, 4])
            let other = try await client.post("/v1/jobs", echoItems(1), headers: [HTTPField.Name("Idempotency-Key")!: "k-2"])
            #expect(try other.json["id"]?.stringValue != id)
            let brief = try await client.get("/v1/jobs/\(id)?results=false").json
            #expect(brief["results"] == nil)
        }
    }

    @Test func aJobAcceptedBeforeARestartFinishesAfterItExactlyOnce() async throws {
        let path = TestEnv.tempPath("restart")
        let backend = StubBackend()
        // 1. A server that accepts jobs but stops before running them (as if killed right after).
        let first = try await buildApplication(TestEnv.config(backend) { $0.databasePath = path; $0.runJobs = false })
        let id = try await first.test(.router) { client in
            let r = try await client.post("/v1/jobs", echoItems(6, tag: "r"))
            #expect(r.status == .accepted)
            return try #require(try r.json["id"]?.stringValue)
        }
        #expect(backend.totalRuns == 0)
        // Simulate a crash mid-job: two items already have results in the store.
        let store = try JobStore(path: path)
        let before = try #require(try await store.snapshot(id))
        #expect(before.state == "queued" && before.completed == 0)

        // 2. A new server on the same database finishes it.
        let second = try await buildApplication(TestEnv.config(backend) { $0.databasePath = path })
        try await second.test(.router) { client in
            let done = try await Self.waitDone(client, id)
            #expect(done["completed"] == 6)
            #expect(done["results"]?.arrayValue?.allSatisfy { $0["reward"] == 1 } == true)
        }
        #expect(backend.totalRuns == 6)
        #expect(backend.runs.withLock { $0.values.allSatisfy { $0 == 1 } })
        #expect(try await store.storeCounts(id) == [1, 1, 1, 1, 1, 1])

        // 3. A third start runs nothing again.
        let third = try await buildApplication(TestEnv.config(backend) { $0.databasePath = path })
        try await third.test(.router) { client in
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.get("/v1/jobs/\(id)").json["status"] == "done")
        }
        #expect(backend.totalRuns == 6)
    }

    @Test func aCrashMidJobResumesOnlyTheMissingItems() async throws {
        let path = TestEnv.tempPath("midjob")
        let backend = StubBackend()
        let first = try await buildApplication(TestEnv.config(backend) { $0.databasePath = path; $0.runJobs = false })
        let id = try await first.test(.router) { client in
            try #require(try await client.post("/v1/jobs", echoItems(4, tag: "m")).json["id"]?.stringValue)
        }
        // Results of items 0 and 2 were stored before the "kill -9"; 1 and 3 were running.
        let sqlite = try JobStoreProbe(path: path)
        try sqlite.storeFakeResult(id, index: 0)
        try sqlite.storeFakeResult(id, index: 2)
        let second = try await buildApplication(TestEnv.config(backend) { $0.databasePath = path })
        try await second.test(.router) { client in
            let done = try await Self.waitDone(client, id)
            #expect(done["completed"] == 4)
        }
        #expect(backend.runs.withLock { $0 } == ["m1\n": 1, "m3\n": 1])
        #expect(try await JobStore(path: path).storeCounts(id) == [1, 1, 1, 1])
    }
}

import GRDB

/// Writes into the job database behind the server's back, as a crashed run would have left it.
struct JobStoreProbe {
    let db: DatabaseQueue
    init(path: String) throws { db = try DatabaseQueue(path: path) }

    func storeFakeResult(_ id: String, index: Int) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE job_item SET result = ?, stored = stored + 1 WHERE job_id = ? AND idx = ?",
                           arguments: [#"{"index": \#(index), "reward": 1, "error": null}"#, id, index])
            try db.execute(sql: "UPDATE job SET completed = completed + 1, state = 'running' WHERE id = ?", arguments: [id])
        }
    }
}
