import Testing
@testable import Rewards

// MARK: - deepcoder-spec §1.7: the comparator table, for every checker

struct ComparatorCase: Sendable, CustomTestStringConvertible {
    var actual: String, expected: String
    var lcb: Bool, taco: Bool, tolerance: Bool, exact: Bool
    var testDescription: String { "\(actual.debugDescription) vs \(expected.debugDescription)" }
}

/// Rows of §1.7 (actual vs expected). LCB and TACO columns are the reference outcomes; the
/// tolerance (1e-6, tokens) and exact columns are this project's definitions.
let comparatorTable: [ComparatorCase] = [
    .init(actual: "NO", expected: "YES", lcb: false, taco: true, tolerance: false, exact: false),
    .init(actual: "abc def", expected: "xyz uvw", lcb: false, taco: true, tolerance: false, exact: false),
    .init(actual: "hello", expected: "world", lcb: false, taco: true, tolerance: false, exact: false),
    .init(actual: "1 2 3", expected: "1 2 4", lcb: false, taco: false, tolerance: false, exact: false),
    .init(actual: "1.0000001", expected: "1.0", lcb: false, taco: true, tolerance: true, exact: false),
    .init(actual: "0.5", expected: "0.50001", lcb: false, taco: false, tolerance: false, exact: false),
    .init(actual: "3", expected: "3.0", lcb: true, taco: true, tolerance: true, exact: false),
    .init(actual: "1e5", expected: "100000", lcb: true, taco: true, tolerance: true, exact: false),
    .init(actual: "1  2", expected: "1 2", lcb: true, taco: true, tolerance: true, exact: false),
    .init(actual: "a\n\nb", expected: "a\nb", lcb: false, taco: true, tolerance: true, exact: false),
    .init(actual: "2\n3", expected: "3\n2", lcb: false, taco: true, tolerance: false, exact: false),
    .init(actual: "YES\n", expected: "YES", lcb: true, taco: true, tolerance: true, exact: true),
    .init(actual: "", expected: "0", lcb: false, taco: false, tolerance: false, exact: false),
]

@Test("LiveCodeBench checker (default) matches §1.7", arguments: comparatorTable)
func lcbChecker(_ c: ComparatorCase) {
    #expect(Checker.lcb.accepts(c.actual, c.expected) == c.lcb)
}

@Test("taco-lenient checker reproduces the reference's §1.7 outcomes", arguments: comparatorTable)
func tacoChecker(_ c: ComparatorCase) {
    #expect(Checker.tacoLenient.accepts(c.actual, c.expected) == c.taco)
}

@Test("tolerance checker on §1.7", arguments: comparatorTable)
func toleranceChecker(_ c: ComparatorCase) {
    #expect(Checker(name: "tolerance")!.accepts(c.actual, c.expected) == c.tolerance)
}

@Test("exact checker on §1.7", arguments: comparatorTable)
func exactChecker(_ c: ComparatorCase) {
    #expect(Checker.exact.accepts(c.actual, c.expected) == c.exact)
}

@Test func checkerDetails() {
    // LCB: line counts must match; numbers exactly equal as decimals.
    #expect(Checker.lcb.accepts("1 2\n3\n", "1 2\n3"))
    #expect(!Checker.lcb.accepts("1\n2", "1 2"))
    #expect(Checker.lcb.accepts("0.10", "0.1"))
    #expect(!Checker.lcb.accepts("0.1000001", "0.1"))
    #expect(Checker.lcb.accepts("  x  \n y", "x\ny"))
    #expect(Checker.lcb.accepts("-0", "0"))
    // Tolerance: relative or absolute.
    let t = Checker(name: "tolerance:1e-6")!
    #expect(t.accepts("1000000.5", "1000000"))
    #expect(!t.accepts("1.1", "1.0"))
    #expect(!t.accepts("Case #1: 2", "Case #1: 3"))
    #expect(Checker.tolerance(absolute: 1e-6, relative: 1e-6, caseSensitive: false).accepts("case #1: possible", "Case #1: POSSIBLE"))
    #expect(Checker(name: "nonsense") == nil)
    #expect(Checker(name: "taco-lenient") == .tacoLenient)
    #expect(Checker(name: "default") == .lcb)
}

// MARK: - Extraction (deepcoder-spec §1.2)

@Test func extractionRules() {
    #expect(CodeExtractor.extract("no code here") == nil)
    #expect(CodeExtractor.extract("```print(1)```") == nil)              // newline required
    #expect(CodeExtractor.extract("``` python\nx=1\n```") == nil)        // space before the tag
    #expect(CodeExtractor.extract("```objective-c\nx\n```") == nil)      // tag must be \w+
    let two = CodeExtractor.extract("<think>```python\nfirst()\n```</think> then ```python\nsecond()\n```")
    #expect(two?.code == "second()")
    // The last *closed* block wins: an unclosed final block falls back to the earlier one.
    let unclosed = CodeExtractor.extract("```python\nok()\n```\nand finally\n```python\nbroken(")
    #expect(unclosed?.code == "ok()")
    let cpp = CodeExtractor.extract("```cpp\nint main(){}\n```")
    #expect(cpp?.language == .cpp)
    #expect(cpp?.tag == "cpp")
    let bare = CodeExtractor.extract("```\n  x = 1  \n\n```")
    #expect(bare?.code == "x = 1")
    #expect(bare?.language == .python)
    #expect(CodeExtractor.extract("```python3\nprint(2)\n```")?.language == .python)
    #expect(CodeExtractor.extract("```python\n```")?.code == "")
}

// MARK: - Sampling (deepcoder-spec §1.5)

@Test func samplingKeepsLongestStableAndFnName() {
    let tests = (0..<20).map { i in TestCase.stdio(String(repeating: "x", count: i % 5), "o\(i)") }
    let picked = TestSampler.sampleIndices(tests, maxTests: 15)
    #expect(picked.count == 15)
    // Longest inputs first; ties keep file order.
    #expect(Array(picked.prefix(4)) == [4, 9, 14, 19])
    #expect(Array(picked.suffix(4)) == [17, 1, 6, 11])
    #expect(TestSampler.sampleIndices(tests, maxTests: 15) == picked)  // deterministic
    #expect(TestSampler.sampleIndices(tests, maxTests: 0).count == 20)
    #expect(TestSampler.sampleIndices(Array(tests.prefix(10)), maxTests: 15) == Array(0..<10))
    // Call tests count arguments; the function name survives sampling (rllm#128).
    let calls = (0..<20).map { i in TestCase.call("f", Array(repeating: JSONValue.int("1"), count: 1 + i % 3), expected: .int("0")) }
    for t in TestSampler.sample(calls, maxTests: 15) {
        guard case .call(let f, let args, _) = t.kind else { Issue.record("not a call"); continue }
        #expect(f == "f")
        #expect(args.count >= 1)
    }
}

// MARK: - JSON and value comparison

@Test func jsonRoundTrip() throws {
    let v = try JSONValue(parsing: #"{"a": [1, -0, 2.5, 1e3, true, null, "x\n\u00e9\ud83d\ude00"], "big": 123456789012345678901234567890, "n": NaN, "i": -Infinity}"#)
    #expect(v["big"] == .int("123456789012345678901234567890"))
    #expect(v["a"]?.arrayValue?[1] == .int("0"))
    #expect(v["a"]?.arrayValue?[3] == .double(1000))
    #expect(v["a"]?.arrayValue?[6] == .string("x\né😀"))
    let again = try JSONValue(parsing: v.jsonText)
    #expect(again == v)
    #expect(throws: JSONParseError.self) { try JSONValue(parsing: "[1, 2") }
    #expect(throws: JSONParseError.self) { try JSONValue(parsing: "{\"a\" 1}") }
}

@Test func pythonEquality() throws {
    func j(_ s: String) throws -> JSONValue { try JSONValue(parsing: s) }
    #expect(CallComparison.exact.matches(try j("3"), try j("3.0")))
    #expect(CallComparison.exact.matches(try j("true"), try j("1")))
    #expect(!CallComparison.exact.matches(try j("[1, 2]"), try j("[2, 1]")))
    #expect(CallComparison.exact.matches(try j(#"{"$set": [1, 2]}"#), try j(#"{"$set": [2, 1]}"#)))
    #expect(!CallComparison.exact.matches(try j(#"{"$set": [1, 2]}"#), try j("[1, 2]")))
    #expect(CallComparison.exact.matches(try j(#"{"a": 1, "b": 2}"#), try j(#"{"b": 2, "a": 1}"#)))
    #expect(!CallComparison.exact.matches(try j("0.30000000000000004"), try j("0.3")))
    #expect(CallComparison.absoluteTolerance(0).matches(try j("0.30000000000000004"), try j("0.3")))
    #expect(CallComparison.absoluteTolerance(0).matches(try j("[0.1, 0.20000001]"), try j("[0.1, 0.2]")))
    #expect(!CallComparison.absoluteTolerance(0).matches(try j("1"), try j("2")))
    #expect(CallComparison.absoluteTolerance(1e-3).matches(try j("1.0005"), try j("1.0")))
    #expect(CallComparison.tacoUnwrap.matches(try j("5"), try j("[5]")))
    #expect(!CallComparison.exact.matches(try j("5"), try j("[5]")))
    #expect(!CallComparison.exact.matches(try j(#"{"$repr": "<X>"}"#), try j("1")))
}
