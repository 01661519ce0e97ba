import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

@Suite("HTTP API (stub backend)", .onServerThreads)
struct APITests {
    @Test func healthzPingOpenAPIAndMetrics() async throws {
        let app = try await buildApplication(TestEnv.config())
        try await app.test(.router) { client in
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            #expect(try health.json["status"] == "ok")
            let ping = try await client.get("/v1/ping")
            #expect(ping.status == .ok)
            #expect(ping.text == #""pong""#)
            let openapi = try await client.get("/openapi.json")
            #expect(openapi.status == .ok)
            let doc = try openapi.json
            #expect(doc["openapi"]?.stringValue?.hasPrefix("3.") == true)
            for path in ["/run_code", "/v1/ping", "/v1/grade", "/v1/jobs", "/v1/jobs/{id}", "/get_reward", "/healthz", "/metrics"] {
                #expect(doc["paths"]?[path] != nil, "openapi.json lacks \(path)")
            }
            try await client.post("/run_code", #"{"code": "print(1)", "language": "python"}"#)
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            for series in ["assay_queue_depth 0", "assay_runs_in_flight 0", "assay_verdicts_total{verdict=\"OK\"} 1",
                           "assay_run_code_total{status=\"Success\"} 1", "assay_run_duration_seconds_bucket{le=\"+Inf\"} 1",
                           "assay_http_request_duration_seconds_count{route=\"/run_code\"} 1"] {
                #expect(metrics.text.contains(series), "missing \(series)")
            }
        }
    }

    @Test func runCodeWireFormat() async throws {
        let app = try await buildApplication(TestEnv.config())
        try await app.test(.router) { client in
            let r = try await client.post("/run_code", #"{"compile_timeout": 10, "run_timeout": 10, "code": "ECHO", "stdin": "hi\n", "memory_limit_MB": 1024, "language": "python", "files": {}, "fetch_files": []}"#)
            #expect(r.status == .ok)
            let j = try r.json
            #expect(j["status"] == "Success")
            #expect(j["message"] == "")
            #expect(j["compile_result"] == .null)
            #expect(j["run_result"]?["status"] == "Finished")
            #expect(j["run_result"]?["return_code"] == 0)
            #expect(j["run_result"]?["stdout"] == "hi\n")
            #expect(j["run_result"]?["stderr"] == "")
            #expect(j["run_result"]?["execution_time"]?.doubleValue != nil)
            #expect(j["files"] == .object([]))
            #expect(j.keys.contains("executor_pod_name"))
            // A sandbox fault is SandboxError (the client retries it), still HTTP 200.
            let fault = try await client.post("/run_code", #"{"code": "FAULT", "language": "cpp"}"#)
            #expect(fault.status == .ok)
            #expect(try fault.json["status"] == "SandboxError")
        }
    }

    @Test func badInputIsA4xxWithAMessageAndTheServerKeepsServing() async throws {
        var c = TestEnv.config()
        c.maxBodyBytes = 4096
        let app = try await buildApplication(c)
        try await app.test(.router) { client in
            func expect4xx(_ uri: String, _ body: ByteBuffer, _ status: HTTPResponse.Status, _ fragment: String,
                           sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let r = try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: body)
                #expect(r.status == status, "\(uri): \(r.text)", sourceLocation: sourceLocation)
                let message = try r.json["error"]?["message"]?.stringValue ?? ""
                #expect(message.contains(fragment), "\(uri): \(message)", sourceLocation: sourceLocation)
            }
            try await expect4xx("/run_code", body(#"{"code": "print(1)", "language": "python""#), .badRequest, "malformed JSON")
            try await expect4xx("/run_code", body(#"{"code": 5, "language": "python"}"#), .badRequest, "field 'code' must be a string, got number")
            try await expect4xx("/run_code", body(#"{"language": "python"}"#), .badRequest, "field 'code' is missing")
            try await expect4xx("/run_code", body(#"{"code": "x", "language": "cobol"}"#), .badRequest, "unsupported language 'cobol'")
            try await expect4xx("/run_code", body(#"{"code": "x", "language": "python", "run_timeout": -1}"#), .badRequest, "run_timeout")
            try await expect4xx("/run_code", body(#"{"code": "x", "language": "python", "memory_limit_MB": 2}"#), .badRequest, "memory_limit_MB")
            try await expect4xx("/run_code", body("[1, 2]"), .badRequest, "must be a JSON object")
            try await expect4xx("/run_code", body(""), .badRequest, "empty")
            var bad = ByteBuffer(string: #"{"code": ""#)
            bad.writeBytes([0xC3, 0x28])
            bad.writeString(#"", "language": "python"}"#)
            try await expect4xx("/run_code", bad, .badRequest, "not valid UTF-8 (first bad byte at offset 10)")
            try await expect4xx("/run_code", body(#"{"code": ""# + String(repeating: "x", count: 5000) + #"", "language": "python"}"#),
                                .contentTooLarge, "larger than the limit of 4096 bytes")
            try await expect4xx("/v1/grade", body(#"{"items": []}"#), .badRequest, "'items' is empty")
            try await expect4xx("/v1/grade", body(#"{"items": {}}"#), .badRequest, "field 'items' must be an array, got object")
            try await expect4xx("/v1/grade", body(#"{"items": [{"problem_id": "nope", "response": "x"}]}"#), .notFound, "no problem 'nope'")
            try await expect4xx("/v1/grade", body(#"{"items": [{"problem_id": "echo"}]}"#), .badRequest, "field 'items[0].response' is missing")
            try await expect4xx("/v1/grade", body(#"{"items": [{"problem_id": "echo", "code": "x", "language": "go"}]}"#), .badRequest, "unsupported language 'go'")
            try await expect4xx("/v1/grade", body(#"{"items": [{"problem": {"tests": "x"}, "response": "x"}]}"#), .badRequest, "not a valid native problem")
            try await expect4xx("/v1/grade", body(#"{"items": [{"problem_id": "echo", "response": "x"}], "options": {"checker": "magic"}}"#), .badRequest, "unknown checker 'magic'")
            try await expect4xx("/v1/jobs", body(#"{"items": []}"#), .badRequest, "'items' is empty")
            try await expect4xx("/get_reward", body(#"{"query": ["a"], "prompts": ["a"], "labels": []}"#), .badRequest, "'labels' has 0 entries")
            try await expect4xx("/get_reward", body(#"{"query": [1]}"#), .badRequest, "field 'query[0]' must be a string")
            let missing = try await client.get("/v1/jobs/job_nope")
            #expect(missing.status == .notFound)
            // Still serving.
            let ok = try await client.post("/run_code", #"{"code": "print(1)", "language": "python"}"#)
            #expect(try ok.json["status"] == "Success")
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test func gradeBatchPerItemRewardsVerdictsAndErrors() async throws {
        let app = try await buildApplication(TestEnv.config())
        try await app.test(.router) { client in
            let r = try await client.post("/v1/grade", #"""
                {"items": [
                  {"id": "a", "problem_id": "echo", "response": "Here:\n```python\nECHO\n```"},
                  {"id": "b", "problem_id": "echo", "response": "```python\nWRONG\n```"},
                  {"id": "c", "problem_id": "echo", "response": "no code here"},
                  {"id": "d", "problem": {"id": "p", "tests": [{"stdin": "5\n", "stdout": "5\n"}]}, "code": "FAULT"},
                  {"id": "e", "problem": {"tests": [{"stdin": "7\n", "stdout": "7\n"}]}, "code": "ECHO", "language": "cpp"}
                ], "options": {"max_tests": 10}}
                """#)
            #expect(r.status == .ok, "\(r.text)")
            let j = try r.json
            let results = try #require(j["results"]?.arrayValue)
            #expect(results.count == 5)
            #expect(results[0]["id"] == "a")
            #expect(results[0]["reward"] == 1)
            #expect(results[0]["reason"] == "passed")
            #expect(results[0]["tests"]?.arrayValue?.count == 2)
            #expect(results[0]["tests"]?.arrayValue?.first?["verdict"] == "OK")
            #expect(results[0]["tests"]?.arrayValue?.first?["wall_ms"]?.doubleValue != nil)
            #expect(results[1]["reward"] == 0)
            #expect(results[1]["reason"] == "wrong_answer")
            #expect(results[1]["tests"]?.arrayValue?.first?["verdict"] == "WA")
            #expect(results[2]["reason"] == "no_code")
            // The sandbox failure fails that item only.
            #expect(results[3]["reward"] == .null)
            #expect(results[3]["error"]?.stringValue?.contains("the sandbox broke") == true)
            #expect(results[4]["reward"] == 1)
            #expect(results[4]["language"] == "cpp")
            #expect(j["summary"]?["items"] == 5)
            #expect(j["summary"]?["passed"] == 2)
            #expect(j["summary"]?["errors"] == 1)
        }
    }

    @Test func openRLHFRemoteReward() async throws {
        let app = try await buildApplication(TestEnv.config())
        try await app.test(.router) { client in
            let empty = try await client.post("/get_reward", #"{"query": [], "prompts": [], "labels": []}"#)
            #expect(empty.status == .ok)
            #expect(try empty.json == .object([("rewards", .array([])), ("scores", .array([])), ("extra_logs", .object([]))]))
            let r = try await client.post("/get_reward", #"""
                {"query": ["<|user|>Solve echo<|assistant|>```python\nECHO\n```", "<|user|>P2<|assistant|>```python\nWRONG\n```", "<|user|>P3<|assistant|>```python\nECHO\n```"],
                 "prompts": ["Solve echo", "P2", "P3"],
                 "labels": ["echo", "{\"inputs\": [\"4\\n\"], \"outputs\": [\"4\\n\"]}", "{\"id\": \"x\", \"tests\": [{\"stdin\": \"9\\n\", \"stdout\": \"9\\n\"}]}"]}
                """#)
            #expect(r.status == .ok, "\(r.text)")
            let j = try r.json
            #expect(j["rewards"] == [1.0, 0.0, 1.0])
            #expect(j["scores"] == [1.0, 0.0, 1.0])
            #expect(j["extra_logs"]?["pass"] == [1.0, 0.0, 1.0])
            #expect(j["extra_logs"]?["grading_error"] == [0.0, 0.0, 0.0])
            let unknown = try await client.post("/get_reward", #"{"query": ["x"], "prompts": ["x"], "labels": ["no-such-problem"]}"#)
            #expect(unknown.status == .notFound)
        }
    }

    @Test func bearerTokenGuardsEverythingButHealthz() async throws {
        let token = "0123456789abcdef0123"
        let app = try await buildApplication(TestEnv.config { $0.token = token })
        try await app.test(.router) { client in
            #expect(try await client.get("/healthz").status == .ok)
            let denied = try await client.post("/run_code", #"{"code": "print(1)", "language": "python"}"#)
            #expect(denied.status == .unauthorized)
            #expect(denied.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await client.get("/v1/ping", headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let ok = try await client.post("/run_code", #"{"code": "print(1)", "language": "python"}"#, headers: [.authorization: "Bearer \(token)"])
            #expect(ok.status == .ok)
        }
    }

    @Test func refusesToBindBeyondLoopbackWithoutAToken() async throws {
        await #expect(throws: ServerConfigurationError.self) {
            _ = try await buildApplication(TestEnv.config { $0.host = "0.0.0.0" })
        }
        await #expect(throws: ServerConfigurationError.self) {
            _ = try await buildApplication(TestEnv.config { $0.host = "0.0.0.0"; $0.token = "short" })
        }
        _ = try await buildApplication(TestEnv.config { $0.host = "0.0.0.0"; $0.token = String(repeating: "k", count: 32) })
    }

    @Test func fullQueueAnswers429WithRetryAfter() async throws {
        var c = TestEnv.config()
        c.workers = 1
        c.queueCapacity = 2
        c.maxBatchItems = 10
        let app = try await buildApplication(c)
        try await app.test(.router) { client in
            let r = try await client.post("/v1/grade", echoItems(3))
            #expect(r.status == .tooManyRequests)
            #expect(r.headers[.retryAfter].flatMap { Int($0) }.map { $0 >= 1 } == true)
            #expect(try r.json["error"]?["message"]?.stringValue?.contains("queue is full") == true)
            let ok = try await client.post("/v1/grade", echoItems(2))
            #expect(ok.status == .ok)
            let metrics = try await client.get("/metrics")
            #expect(metrics.text.contains("assay_rejected_total{reason=\"queue_full\"} 1"))
            #expect(metrics.text.contains("assay_http_requests_total{route=\"/v1/grade\",status=\"429\"} 1"))
        }
    }
}
