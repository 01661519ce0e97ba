import Foundation
import Glibc
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Sandboxing
import Synchronization
import Testing

@Suite("Load")
struct LoadTests {
    /// 16 concurrent tasks × 4 requests each (batches of 4 items and /run_code calls) over a real
    /// socket: every request answered, every item graded once, nothing lost or duplicated.
    /// HummingbirdTesting's live client pipelines them on one connection with a 20 s timeout per
    /// request, so the load is kept small enough to finish on a busy 2-core CI machine; many
    /// separate connections are what `assay bench serve --clients N` drives.
    @Test func manyConcurrentClientsOverALiveSocket() async throws {
        let backend = StubBackend()
        let app = try await buildApplication(TestEnv.config(backend) { $0.workers = 4 })
        try await app.test(.live) { client in
            let clients = 16, rounds = 4, itemsPerBatch = 4
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for c in 0..<clients {
                    group.addTask {
                        var seen: [Int] = []
                        for r in 0..<rounds {
                            if r % 2 == 0 {
                                let resp = try await client.post("/v1/grade", echoItems(itemsPerBatch, code: "SLOW", tag: "c\(c)r\(r)-"))
                                seen.append(Int(resp.status.code))
                                let results = try resp.json["results"]?.arrayValue ?? []
                                #expect(results.count == itemsPerBatch)
                                #expect(results.allSatisfy { $0["reward"] == 1 })
                            } else {
                                let resp = try await client.post("/run_code", #"{"code": "ECHO", "stdin": "c\#(c)r\#(r)", "language": "python"}"#)
                                seen.append(Int(resp.status.code))
                                #expect(try resp.json["run_result"]?["stdout"]?.stringValue == "c\(c)r\(r)")
                            }
                        }
                        return seen
                    }
                }
                var all: [Int] = []
                for try await s in group { all += s }
                return all
            }
            #expect(statuses.count == clients * rounds)
            #expect(statuses.allSatisfy { $0 == 200 })
            let expected = clients * (rounds / 2) * itemsPerBatch + clients * (rounds / 2)
            #expect(backend.totalRuns == expected)
            #expect(backend.runs.withLock { $0.values.allSatisfy { $0 == 1 } })
            let health = try await client.get("/healthz").json
            #expect(health["queue_depth"] == 0)
            #expect(health["in_flight"] == 0)
        }
    }

    /// 64 clients, each on its own keep-alive TCP connection and thread, each sending rounds of
    /// /v1/grade batches, in two waves: every request answered 200 with its own results and every
    /// item graded exactly once. (The daemon's memory under this load is measured on the real
    /// binary, `ServeMemoryTests`: this process also hosts every other suite running beside it.)
    @Test func sixtyFourConnectionsSendingBatchesInTwoWaves() async throws {
        let backend = StubBackend()
        let app = try await buildApplication(TestEnv.config(backend) { $0.workers = 4 })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let clients = 64, rounds = 3, items = 4
            for wave in 0..<2 {
                let failures = await onBlockingThreads(clients) { c in
                    let connection = try LoopbackHTTPConnection(port: port)
                    for r in 0..<rounds {
                        let tag = "w\(wave)c\(c)r\(r)-"
                        let (status, body) = try connection.post("/v1/grade", body: Array(echoItems(items, tag: tag).utf8))
                        let json = try JSONValue(parsing: body[...])
                        let results = json["results"]?.arrayValue ?? []
                        guard status == 200, results.count == items, results.allSatisfy({ $0["reward"] == 1 }) else {
                            throw LoopbackHTTPConnection.Failure(description: "\(tag): HTTP \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
                        }
                    }
                }
                #expect(failures.isEmpty, "\(failures.count) clients failed, first: \(failures.first.map { "\($0)" } ?? "")")
            }
            #expect(backend.totalRuns == 2 * clients * rounds * items)
            #expect(backend.runs.withLock { $0.values.allSatisfy { $0 == 1 } })
            let health = try await client.get("/healthz").json
            #expect(health["queue_depth"] == 0)
        }
    }
}
