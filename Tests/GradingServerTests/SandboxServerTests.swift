import Foundation
import GradingServer
import Hummingbird
import HummingbirdTesting
import Rewards
import Testing

/// The real sandbox behind the HTTP API (root only).
@Suite("Real sandbox", .enabled(if: TestEnv.isRoot && TestEnv.sandboxBackend != nil), .serialized, .onServerThreads)
struct SandboxServerTests {
    static func app() async throws -> some ApplicationProtocol {
        try await buildApplication(TestEnv.config(TestEnv.sandboxBackend!))
    }

    @Test func runCodePythonAndCpp() async throws {
        try await Self.app().test(.router) { client in
            let py = try await client.post("/run_code", #"{"code": "print(1)", "language": "python"}"#).json
            #expect(py["status"] == "Success")
            #expect(py["run_result"]?["stdout"] == "1\n")
            #expect(py["run_result"]?["return_code"] == 0)
            let cpp = try await client.post("/run_code", #"""
                {"code": "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}", "stdin": "2 40", "language": "cpp"}
                """#).json
            #expect(cpp["status"] == "Success", "\(cpp.jsonText)")
            #expect(cpp["run_result"]?["stdout"] == "42\n")
            #expect(cpp["compile_result"]?["status"] == "Finished")
            #expect(cpp["compile_result"]?["return_code"] == 0)
        }
    }

    @Test func failuresAreFailedNotSandboxError() async throws {
        try await Self.app().test(.router) { client in
            let tle = try await client.post("/run_code", #"{"code": "while True: pass", "language": "python", "run_timeout": 1}"#).json
            #expect(tle["status"] == "Failed")
            #expect(tle["run_result"]?["status"] == "TimeLimitExceeded")
            #expect(tle["run_result"]?["return_code"] == .null)
            let exit3 = try await client.post("/run_code", #"{"code": "import sys; print('x'); sys.exit(3)", "language": "python"}"#).json
            #expect(exit3["status"] == "Failed")
            #expect(exit3["run_result"]?["status"] == "Finished")
            #expect(exit3["run_result"]?["return_code"] == 3)
            // memory_limit_MB is honoured: 300 MB does not fit in 64 MB, but fits in the default.
            let hog = "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); print(len(x))"
            let small = try await client.post("/run_code", #"{"code": "\#(hog)", "language": "python", "memory_limit_MB": 64}"#).json
            #expect(small["status"] == "Failed", "\(small.jsonText)")
            #expect(small["run_result"]?["return_code"] != 0)
            let big = try await client.post("/run_code", #"{"code": "\#(hog)", "language": "python", "memory_limit_MB": 1024}"#).json
            #expect(big["status"] == "Success", "\(big.jsonText)")
            let ce = try await client.post("/run_code", #"{"code": "int main( {", "language": "cpp"}"#).json
            #expect(ce["status"] == "Failed")
            #expect(ce["run_result"] == .null)
            #expect(ce["compile_result"]?["status"] == "Finished")
            #expect(ce["compile_result"]?["return_code"] != 0)
            #expect(ce["compile_result"]?["stderr"]?.stringValue?.contains("error") == true)
        }
    }

    @Test func gradeNativeProblemsInPythonAndCpp() async throws {
        try await Self.app().test(.router) { client in
            let r = try await client.post("/v1/grade", #"""
                {"items": [
                  {"problem": {"id": "add", "tests": [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "-5 5\n", "stdout": "0\n"}]},
                   "response": "```python\na, b = map(int, input().split())\nprint(a + b)\n```"},
                  {"problem": {"id": "add", "tests": [{"stdin": "1 2\n", "stdout": "3\n"}]},
                   "response": "```cpp\n#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b;}\n```"},
                  {"problem": {"id": "twice", "entry_point": "twice", "tests": [{"args": [2], "expected": 4}]},
                   "response": "```python\ndef twice(x):\n    return x * 3\n```"}
                ]}
                """#)
            #expect(r.status == .ok)
            let results = try #require(try r.json["results"]?.arrayValue)
            #expect(results[0]["reward"] == 1, "\(results[0].jsonText)")
            #expect(results[1]["reward"] == 1, "\(results[1].jsonText)")
            #expect(results[1]["language"] == "cpp")
            #expect(results[2]["reward"] == 0)
            #expect(results[2]["reason"] == "wrong_answer")
        }
    }

    /// verl's call-based ground truth (one JSON argument per line, JSON text outputs), as verl's
    /// own harness reads it, on both paths that take TACO-shaped labels: a correct `Solution`
    /// method and a correct plain function pass, wrong ones fail.
    @Test func verlCallBasedGroundTruthOnGetRewardAndGrade() async throws {
        let choco: JSONValue = ["fn_name": "buyChoco", "inputs": ["[1, 2, 2]\n3", "[3, 2, 3]\n3"], "outputs": ["0", "3"]]
        let words: JSONValue = ["fn_name": "reverseWords", "inputs": ["\"hello world\"\n\" \""], "outputs": ["[\"world hello\", 2]"]]
        let chocoRight = "```python\nclass Solution:\n    def buyChoco(self, prices: List[int], money: int) -> int:\n        a, b = sorted(prices)[:2]\n        return money - a - b if a + b <= money else money\n```"
        let chocoWrong = "```python\nclass Solution:\n    def buyChoco(self, prices, money):\n        return money - min(prices)\n```"
        let wordsRight = "```python\ndef reverseWords(s, sep):\n    w = s.split(sep)\n    return sep.join(reversed(w)), len(w)\n```"
        let cases: [(JSONValue, String, Int)] = [(choco, chocoRight, 1), (choco, chocoWrong, 0), (words, wordsRight, 1)]
        try await Self.app().test(.router) { client in
            let reward: JSONValue = [
                "query": .array(cases.map { .string("prompt" + $0.1) }), "prompts": .array(cases.map { _ in "prompt" }),
                "labels": .array(cases.map { .string($0.0.jsonText) }),
            ]
            let r = try await client.post("/get_reward", reward.jsonText)
            #expect(r.status == .ok, "\(r.text)")
            #expect(try r.json["rewards"] == .array(cases.map { .double(Double($0.2)) }), "\(r.text)")
            var items: [JSONValue] = []
            for (tests, response, _) in cases {
                items.append(.object([("problem", .object([("tests", tests)])), ("format", .string("taco")), ("response", .string(response))]))
            }
            let grade: JSONValue = .object([("items", .array(items))])
            let g = try await client.post("/v1/grade", grade.jsonText)
            #expect(g.status == .ok, "\(g.text)")
            let results = try #require(try g.json["results"]?.arrayValue)
            #expect(results.map { $0["reward"] } == cases.map { .number($0.2) }, "\(g.text)")
        }
    }
}
