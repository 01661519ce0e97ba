import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

/// Limits a client sends out of range, and bad `files`/`fetch_files`, are the client's mistake:
/// a 400 whose message gives the range or the rule, the same on `/run_code`, `/v1/grade`
/// options, inline problems and `/get_reward` labels, and never a sandbox error.
@Suite("Client limits and files", .onServerThreads)
struct ClientLimitTests {
    func expect400(_ client: some TestClientProtocol, _ uri: String, _ json: String, _ fragments: [String],
                   sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await client.post(uri, json)
        #expect(r.status == .badRequest, "\(uri) \(json): \(r.status) \(r.text)", sourceLocation: sourceLocation)
        let message = try r.json["error"]?["message"]?.stringValue ?? ""
        for fragment in fragments {
            #expect(message.contains(fragment), "\(json): \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func runCodeTimeoutsAndMemoryOutOfRange() async throws {
        try await buildApplication(TestEnv.config()).test(.router) { client in
            let range = "must be from 0.01 to 300 seconds"
            for bad in ["5e-324", "0", "-1", "301", "NaN", "Infinity", "1e999"] {
                try await expect400(client, "/run_code", #"{"code": "print(1)", "language": "python", "run_timeout": \#(bad)}"#, ["field 'run_timeout' \(range)"])
                try await expect400(client, "/run_code", #"{"code": "x", "language": "cpp", "compile_timeout": \#(bad)}"#, ["field 'compile_timeout' \(range)"])
            }
            try await expect400(client, "/run_code", #"{"code": "x", "language": "python", "run_timeout": 1e999}"#, ["got Infinity"])
            try await expect400(client, "/run_code", #"{"code": "x", "language": "python", "run_timeout": "10"}"#, ["must be a number, got string"])
            for bad in ["-5", "0", "2", "15", "65537", "1e999", "NaN"] {
                try await expect400(client, "/run_code", #"{"code": "x", "language": "python", "memory_limit_MB": \#(bad)}"#,
                                    ["field 'memory_limit_MB' must be from 16 to 65536 MiB (or -1: the server's default"])
            }
            // In range: accepted, including the smallest time-out and SandboxFusion's -1.
            for good in [#""run_timeout": 0.01"#, #""memory_limit_MB": -1"#, #""memory_limit_MB": 16"#, #""compile_timeout": 300"#] {
                let r = try await client.post("/run_code", #"{"code": "print(1)", "language": "python", \#(good)}"#)
                #expect(r.status == .ok, "\(good): \(r.text)")
                #expect(try r.json["status"] == "Success", "\(good): \(r.text)")
            }
        }
    }

    @Test func gradingLimitsOutOfRangeInOptionsInlineProblemsAndLabels() async throws {
        try await buildApplication(TestEnv.config()).test(.router) { client in
            let item = #"{"problem_id": "echo", "response": "x"}"#
            for bad in ["1e9", "0", "NaN", "1e999", "61"] {
                try await expect400(client, "/v1/grade", #"{"items": [\#(item)], "options": {"time_limit": \#(bad)}}"#,
                                    ["field 'options.time_limit' must be from 0.01 to 60 CPU seconds per test"])
            }
            for bad in ["2", "-5", "1e999"] {
                try await expect400(client, "/v1/grade", #"{"items": [\#(item)], "options": {"memory_mb": \#(bad)}}"#,
                                    ["field 'options.memory_mb' must be from 16 to 65536 MiB"])
            }
            let tests = #""tests": [{"stdin": "1\n", "stdout": "1\n"}]"#
            for (key, bad, fragment) in [("time_limit", "3000", "must be from 0.01 to 60 CPU seconds per test, got 3000"),
                                         ("time_limit", "1e9", "got 1000000000"), ("time_limit", "NaN", "got NaN"),
                                         ("memory_mb", "2", "must be from 16 to 65536 MiB, got 2"), ("memory_mb", "1e999", "got Infinity"),
                                         ("memory_mb", "-5", "got -5")] {
                try await expect400(client, "/v1/grade", #"{"items": [{"problem": {\#(tests), "\#(key)": \#(bad)}, "response": "x"}]}"#,
                                    ["items[0].problem", "field '\(key)': must be from", fragment])
                let label = JSONValue.string(#"{\#(tests), "\#(key)": \#(bad)}"#).jsonText
                try await expect400(client, "/get_reward", #"{"query": ["x"], "labels": [\#(label)]}"#, ["labels[0]", "field '\(key)'", fragment])
            }
            // The server still serves, and in-range inline limits are taken.
            let ok = try await client.post("/v1/grade", #"{"items": [{"problem": {\#(tests), "time_limit": 60, "memory_mb": 16}, "code": "ECHO"}]}"#)
            #expect(try ok.json["results"]?.arrayValue?.first?["reward"] == 1, "\(ok.text)")
        }
    }

    @Test func filesAndFetchFilesAreCheckedBeforeAnythingRuns() async throws {
        try await buildApplication(TestEnv.config()).test(.router) { client in
            let run = #""code": "print(1)", "language": "python""#
            for name in ["a/b.txt", "../x", "..", ".", "", "/etc/passwd"] {
                let quoted = JSONValue.string(name).jsonText
                try await expect400(client, "/run_code", #"{\#(run), "files": {\#(quoted): "eA=="}}"#, ["field 'files' names", "plain file names"])
                try await expect400(client, "/run_code", #"{\#(run), "fetch_files": [\#(quoted)]}"#, ["field 'fetch_files' names", "plain file names"])
            }
            try await expect400(client, "/run_code", #"{\#(run), "files": {"a.txt": "!!!"}}"#, ["field 'files.a.txt' is not valid base64"])
            try await expect400(client, "/run_code", #"{\#(run), "files": {"a.txt": 5}}"#, ["field 'files.a.txt' must be base64 text or null"])
            try await expect400(client, "/run_code", #"{\#(run), "files": {"a.txt": "eA==", "a.txt": "eQ=="}}"#, ["names 'a.txt' twice"])
            try await expect400(client, "/run_code", #"{\#(run), "files": []}"#, ["field 'files' must be an object"])
            try await expect400(client, "/run_code", #"{\#(run), "fetch_files": [1]}"#, ["field 'fetch_files[0]' must be a string"])
            let many = (0...64).map { #""f\#($0)""# }.joined(separator: ", ")
            try await expect400(client, "/run_code", #"{\#(run), "fetch_files": [\#(many)]}"#, ["has 65 entries; the limit is 64"])
            // SandboxFusion's defaults (empty, and a null content) are accepted.
            let r = try await client.post("/run_code", #"{\#(run), "files": {"skipped.txt": null}, "fetch_files": []}"#)
            #expect(r.status == .ok, "\(r.text)")
            #expect(try r.json["files"] == .object([]))
        }
    }
}
