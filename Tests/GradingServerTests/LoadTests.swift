import Foundation
import Glibc
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Synchronization
import Testing

@Suite("Load", .onServerThreads)
struct LoadTests {
    /// 16 clients, each on its own keep-alive connection, alternate batches of 4 items and
    /// /run_code calls over a real socket: every request answered, every item graded once,
    /// nothing lost or duplicated.
    @Test func manyConcurrentClientsOverALiveSocket() async throws {
        let backend = StubBackend()
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.workers = 4 }, executor: ServerThreads.shared)
        let clients = 16, rounds = 4, itemsPerBatch = 4
        let failures = await onBlockingThreads(clients) { c in
            let connection = try LoopbackHTTPConnection(port: server.port)
            for r in 0..<rounds {
                let tag = "c\(c)r\(r)"
                if r % 2 == 0 {
                    let (status, body) = try connection.post("/v1/grade", body: Array(echoItems(itemsPerBatch, code: "SLOW", tag: tag + "-").utf8))
                    let results = try JSONValue(parsing: body[...])["results"]?.arrayValue ?? []
                    guard status == 200, results.count == itemsPerBatch, results.allSatisfy({ $0["reward"] == 1 }) else {
                        throw LoopbackHTTPConnection.Failure(description: "\(tag): HTTP \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
                    }
                } else {
                    let (status, body) = try connection.post("/run_code", body: Array(#"{"code": "ECHO", "stdin": "\#(tag)", "language": "python"}"#.utf8))
                    let stdout = try JSONValue(parsing: body[...])["run_result"]?["stdout"]?.stringValue
                    guard status == 200, stdout == tag else {
                        throw LoopbackHTTPConnection.Failure(description: "\(tag): HTTP \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) clients failed, first: \(failures.first.map { "\($0)" } ?? "")")
        let expected = clients * (rounds / 2) * itemsPerBatch + clients * (rounds / 2)
        #expect(backend.totalRuns == expected)
        #expect(backend.runs.withLock { $0.values.allSatisfy { $0 == 1 } })
        let (_, health) = try LoopbackHTTPConnection(port: server.port).get("/healthz")
        let json = try JSONValue(parsing: health[...])
        #expect(json["queue_depth"] == 0)
        #expect(json["in_flight"] == 0)
        try await server.stop()
    }

    /// 64 clients, each on its own keep-alive TCP connection and thread, each sending rounds of
    /// /v1/grade batches, in two waves: every request answered 200 with its own results and every
    /// item graded exactly once. (The daemon's memory under this load is measured on the real
    /// binary, `ServeMemoryTests`: this process also hosts every other suite running beside it.)
    @Test func sixtyFourConnectionsSendingBatchesInTwoWaves() async throws {
        let backend = StubBackend()
        let server = try await InProcessServer.start(TestEnv.config(backend) { $0.workers = 4 }, executor: ServerThreads.shared)
        let port = server.port
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
        let (_, health) = try LoopbackHTTPConnection(port: port).get("/healthz")
        #expect(try JSONValue(parsing: health[...])["queue_depth"] == 0)
        try await server.stop()
    }
}
