import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

/// `options.invalid_items: "error"`: a row that cannot be read (unknown problem id, TACO
/// outputs and inputs of different lengths, a wrong type) gets an error result and the rest of
/// the batch is graded, as the TRL and verl integrations need; without it the batch is a 4xx.
@Suite("Per-item errors for invalid items", .onServerThreads)
struct InvalidItemTests {
    static let items = #"""
        [{"id": "a", "problem_id": "echo", "response": "```python\nECHO\n```"},
         {"id": "b", "problem_id": "nope", "response": "x"},
         {"id": 7, "problem": {"tests": {"inputs": ["1\n", "2\n"], "outputs": ["1\n"]}}, "format": "taco", "response": "x"},
         {"id": "d", "problem_id": "echo"},
         {"id": "e", "problem_id": "echo", "response": "```python\nECHO\n```"}]
        """#

    static func check(_ results: [JSONValue]) {
        #expect(results.map { $0["index"] } == [0, 1, 2, 3, 4])
        #expect(results.map { $0["id"] } == ["a", "b", 7, "d", "e"])
        #expect(results.map { $0["reward"] } == [1, .null, .null, .null, 1])
        let errors = results.map { $0["error"]?.stringValue ?? "" }
        #expect(errors[0].isEmpty && errors[4].isEmpty)
        #expect(errors[1].contains("invalid item") && errors[1].contains("no problem 'nope'"), "\(errors[1])")
        #expect(errors[2].contains("1 outputs for 2 inputs"), "\(errors[2])")
        #expect(errors[3].contains("'items[3].response' is missing"), "\(errors[3])")
    }

    @Test func gradeReportsInvalidItemsAndGradesTheRest() async throws {
        try await buildApplication(TestEnv.config()).test(.router) { client in
            let r = try await client.post("/v1/grade", #"{"items": \#(Self.items), "options": {"invalid_items": "error"}}"#)
            #expect(r.status == .ok, "\(r.text)")
            Self.check(try #require(try r.json["results"]?.arrayValue))
            #expect(try r.json["summary"]?["errors"] == 3)
            // The default still refuses the whole batch, naming the item.
            let strict = try await client.post("/v1/grade", #"{"items": \#(Self.items)}"#)
            #expect(strict.status == .notFound, "\(strict.text)")
            let bad = try await client.post("/v1/grade", #"{"items": \#(Self.items), "options": {"invalid_items": "skip"}}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("options.invalid_items"))
        }
    }

    @Test func jobsReportInvalidItemsWhenTheirTurnComes() async throws {
        let app = try await buildApplication(TestEnv.config { $0.databasePath = TestEnv.tempPath("invalid-items") })
        try await app.test(.router) { client in
            let r = try await client.post("/v1/jobs", #"{"items": \#(Self.items), "options": {"invalid_items": "error"}}"#)
            #expect(r.status == .accepted, "\(r.text)")
            let id = try #require(try r.json["id"]?.stringValue)
            let done = try await JobTests.waitDone(client, id)
            let results = try #require(done["results"]?.arrayValue).sorted { ($0["index"]?.intValue ?? 0) < ($1["index"]?.intValue ?? 0) }
            #expect(results.map { $0["reward"] } == [1, .null, .null, .null, 1], "\(done.jsonText)")
            #expect(results[1]["error"]?.stringValue?.contains("no problem 'nope'") == true)
        }
    }
}
