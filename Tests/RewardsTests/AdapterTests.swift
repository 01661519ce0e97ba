import Testing
import Foundation
@testable import Rewards

@Suite struct AdapterTests {
    func load(_ name: String, _ format: DataFormat? = nil) throws -> ProblemSet {
        try ProblemLoader.load(path: Shared.fixture(name), format: format)
    }

    @Test func detectsEveryFixture() throws {
        let expected: [(String, DataFormat)] = [
            ("humaneval-5.jsonl", .humaneval), ("humanevalplus-3.jsonl", .humanevalplus), ("mbpp-5.jsonl", .mbpp),
            ("mbppplus-3.jsonl", .mbppplus), ("rllm-leetcode-3.json", .leetcode), ("leetcodedataset-2.jsonl", .leetcodedataset),
            ("lcb-279-private-12.json", .livecodebench), ("code-contests-3.json", .taco), ("codeforces-3.json", .codeforces),
            ("codejam-1.jsonl", .codejam), ("native.jsonl", .native), ("taco-fn-1.json", .taco), ("primeintellect-1.json", .primeintellect),
        ]
        for (file, format) in expected {
            let set = try load(file)
            #expect(set.format == format, "\(file)")
            #expect(!set.problems.isEmpty)
            #expect(set.problems.allSatisfy { !$0.tests.isEmpty }, "\(file)")
        }
    }

    @Test func liveCodeBenchDropsTheSharedBogusTests() throws {
        let set = try load("lcb-279-private-12.json")
        #expect(set.problems.count == 12)
        #expect(set.warnings.contains { $0.contains("90%") })
        // stdin problems keep only stdin tests; functional ones only real calls with a method name.
        for p in set.problems.prefix(6) {
            #expect(p.tests.allSatisfy { if case .stdio = $0.kind { return true } else { return false } })
            #expect(p.tests.count >= 1 && p.tests.count <= 6)
        }
        for p in set.problems.suffix(6) {
            #expect(p.entryPoint != nil)
            #expect(p.tests.allSatisfy { if case .call = $0.kind { return true } else { return false } })
        }
        // One JSON value per argument line.
        let fn = set.problems[6]
        guard case .call(nil, let args, let expected?) = fn.tests[0].kind else { Issue.record("not a call"); return }
        #expect(args.count >= 1)
        _ = expected
        #expect(set.problems[0].checker == .lcb)
        #expect(set.problems[0].timeLimitSeconds == 6)
    }

    @Test func tacoCallBasedKeepsFnNameWhenSampled() throws {
        var p = try load("taco-fn-1.json").problems[0]
        #expect(p.entryPoint == "total")
        #expect(p.callComparison == .tacoUnwrap)
        p.tests = Array(repeating: p.tests[0], count: 30)
        let picked = TestSampler.sample(p.tests, maxTests: 15)
        #expect(picked.count == 15)
        #expect(p.entryPoint == "total")  // the problem keeps it; call tests stay calls
        #expect(picked.allSatisfy { if case .call = $0.kind { return true } else { return false } })
        #expect(CallComparison.tacoUnwrap.matches(.int("6"), .array([.int("6")])))
    }

    /// verl's call-based ground truth: each input is text with one JSON argument per line, each
    /// output JSON text (as verl's prime_code harness and LiveCodeBench read them).
    @Test func verlCallBasedGroundTruthIsOneJSONArgumentPerLine() throws {
        let gt: JSONValue = try JSONValue(parsing: #"{"tests": {"fn_name": "buyChoco", "inputs": ["[1, 2, 2]\n3", "[3, 2, 3]\n3\n"], "outputs": ["0", "3"]}}"#)
        let p = try ProblemLoader.adapt(gt, index: 0, format: .taco)
        #expect(p.entryPoint == "buyChoco")
        #expect(p.tests.map(\.kind) == [
            .call(function: nil, arguments: [.array([.int("1"), .int("2"), .int("2")]), .int("3")], expected: .int("0")),
            .call(function: nil, arguments: [.array([.int("3"), .int("2"), .int("3")]), .int("3")], expected: .int("3")),
        ])
        // A JSON string as the expected value, and a list the TACO comparison unwraps.
        let strings = try ProblemLoader.adapt(try JSONValue(parsing: #"{"tests": {"fn_name": "f", "inputs": ["\"ab\""], "outputs": ["[\"ba\"]"]}}"#), index: 0, format: .taco)
        #expect(strings.tests[0].kind == .call(function: nil, arguments: [.string("ab")], expected: .array([.string("ba")])))
        #expect(strings.callComparison.matches(.string("ba"), .array([.string("ba")])))
        // TACO's own form (argument lists, values) is unchanged.
        let taco = try ProblemLoader.adapt(try JSONValue(parsing: #"{"tests": {"fn_name": "f", "inputs": [[[1, 2], 3]], "outputs": [[4]]}}"#), index: 0, format: .taco)
        #expect(taco.tests[0].kind == .call(function: nil, arguments: [.array([.int("1"), .int("2")]), .int("3")], expected: .array([.int("4")])))
        // Text that is not one JSON value per line says which line and field.
        #expect(throws: (any Error).self) { try ProblemLoader.adapt(try JSONValue(parsing: #"{"tests": {"fn_name": "f", "inputs": ["[1, 2"], "outputs": ["1"]}}"#), index: 0, format: .taco) }
        do {
            _ = try ProblemLoader.adapt(try JSONValue(parsing: #"{"tests": {"fn_name": "f", "inputs": ["1"], "outputs": ["not json"]}}"#), index: 0, format: .taco)
            Issue.record("accepted an expected value that is not JSON")
        } catch let e as ProblemLoader.FieldError {
            #expect(e.field == "tests.outputs[0]" && e.message.contains("not JSON"), "\(e)")
        }
    }

    @Test func humanEvalPlusAndMbppPlusNeedExpectedValues() throws {
        let hp = try load("humanevalplus-3.jsonl")
        #expect(hp.problems.allSatisfy { $0.needsExpectedValues && $0.maxTests == 0 && $0.entryPoint != nil })
        #expect(hp.problems[0].tests.count > 40)
        let mp = try load("mbppplus-3.jsonl")
        #expect(mp.problems.allSatisfy { $0.needsExpectedValues })
    }

    @Test func scriptFormats() throws {
        let he = try load("humaneval-5.jsonl").problems[0]
        #expect(he.scriptCallsCheck && he.entryPoint == "has_close_elements" && he.solutionPrefix != nil)
        let mbpp = try load("mbpp-5.jsonl").problems
        #expect(mbpp.map(\.entryPoint) == ["min_cost", "similar_elements", "is_odd", "max_chain_length", "max_sum_rectangular_grid"].map { Optional($0) } || mbpp.allSatisfy { $0.entryPoint != nil })
        let lc = try load("rllm-leetcode-3.json").problems[0]
        #expect(lc.entryPoint == "Solution().minOperations")
        guard case .script(let s) = lc.tests[0].kind else { Issue.record("not a script"); return }
        #expect(!s.contains("check(Solution()"))
        let lcd = try load("leetcodedataset-2.jsonl").problems[0]
        #expect(lcd.entryPoint?.hasPrefix("Solution().") == true)
        let gcj = try load("codejam-1.jsonl").problems[0]
        #expect(gcj.checker == .tolerance(absolute: 1e-6, relative: 1e-6, caseSensitive: false))
    }

    @Test func errorsNameTheLineAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("assay-adapter-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func attempt(_ text: String, _ format: DataFormat? = .native) -> String {
            let path = dir.appendingPathComponent("p.jsonl").path
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do { _ = try ProblemLoader.load(path: path, format: format); return "no error" } catch { return "\(error)" }
        }
        let e1 = attempt("{\"id\": \"a\", \"tests\": [{\"stdin\": \"1\", \"stdout\": \"1\"}]}\n{\"id\": \"b\", \"tests\": [{\"stdin\": 5, \"stdout\": \"1\"}]}\n")
        #expect(e1.contains("line 2") && e1.contains("tests[0].stdin"), "\(e1)")
        let e2 = attempt("{\"id\": \"a\", \"tests\": [{\"args\": [1]}]}\n")
        #expect(e2.contains("line 1") && e2.contains("tests[0].expected"), "\(e2)")
        let e3 = attempt("{\"id\": \"a\", \"tests\": [{\"stdin\": \"\", \"stdout\": \"\"}], \"checker\": \"fuzzy\"}\n")
        #expect(e3.contains("checker"), "\(e3)")
        let e4 = attempt("{\"id\": \"a\", \"tests\": [\n", nil)
        #expect(e4.contains("line 1"), "\(e4)")
        let e5 = attempt("{\"id\": \"a\", \"tests\": [{\"stdin\": \"\", \"stdout\": \"\"}]}\n{\"id\": \"a\", \"tests\": [{\"stdin\": \"\", \"stdout\": \"\"}]}\n")
        #expect(e5.contains("duplicate"), "\(e5)")
        let e6 = attempt("{\"weird\": 1}\n", nil)
        #expect(e6.contains("--format"), "\(e6)")
    }
}
