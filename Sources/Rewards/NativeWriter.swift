/// Writes problems as native JSONL (the format `ProblemLoader` reads with `format: .native`;
/// fields in Sources/Rewards/README.md), reference solutions included, so a written set can be
/// loaded, graded and curated again.
///
/// What the native format cannot say is approximated and reported by `NativeWriter.limitations`:
/// a tolerance checker with different absolute and relative tolerances, or a case-insensitive
/// one (Code Jam), is written as `tolerance:<the larger>`; C++ reference solutions are written
/// as plain solutions (the native reader takes them as Python). Adapter notes are not written.
public enum NativeWriter {
    /// The problem as one native JSON object (keys in a fixed order, so equal problems give
    /// equal text: curation hashes this text).
    public static func object(_ p: Problem) -> JSONValue {
        var o: [(String, JSONValue)] = [("id", .string(p.id))]
        o.append(("source", .string(p.source)))
        if let s = p.statement { o.append(("statement", .string(s))) }
        if let e = p.entryPoint { o.append(("entry_point", .string(e))) }
        o.append(("tests", .array(p.tests.map(test))))
        if let c = p.checker { o.append(("checker", .string(checkerName(c)))) }
        switch p.callComparison {
        case .exact: break
        case .tacoUnwrap: o.append(("call_comparison", .string("taco")))
        case .absoluteTolerance(let atol): o.append(("call_comparison", .object([("atol", .double(atol))])))
        }
        if let t = p.timeLimitSeconds { o.append(("time_limit", .double(t))) }
        if let m = p.memoryLimitMiB { o.append(("memory_mb", .number(m))) }
        if let s = p.setupCode { o.append(("setup", .string(s))) }
        if let s = p.solutionPrefix { o.append(("solution_prefix", .string(s))) }
        if p.scriptCallsCheck { o.append(("check_entry_point", .bool(true))) }
        if let m = p.maxTests { o.append(("max_tests", .number(m))) }
        if !p.referenceSolutions.isEmpty { o.append(("solutions", .array(p.referenceSolutions.map { .string($0) }))) }
        return .object(o)
    }

    /// One JSONL line (no trailing newline).
    public static func line(_ p: Problem) -> String { object(p).jsonText }

    /// One native test object.
    public static func test(_ t: TestCase) -> JSONValue {
        var o: [(String, JSONValue)]
        switch t.kind {
        case .stdio(let i, let out): o = [("stdin", .string(i)), ("stdout", .string(out))]
        case .call(let f, let args, let expected):
            o = [("args", .array(args)), ("expected", expected ?? .null)]
            if let f { o.append(("call", .string(f))) }
        case .script(let s): o = [("script", .string(s))]
        }
        if let n = t.name { o.append(("name", .string(n))) }
        return .object(o)
    }

    /// What writing `p` loses, empty when it round-trips exactly.
    public static func limitations(_ p: Problem) -> [String] {
        var out: [String] = []
        if case let .tolerance(a, r, cs)? = p.checker, a != r || !cs {
            out.append("checker \(p.checker!.name)\(cs ? "" : " (case-insensitive)") written as \(checkerName(p.checker!))")
        }
        if p.referenceLanguage != .python, !p.referenceSolutions.isEmpty { out.append("reference solutions in \(p.referenceLanguage.rawValue) are read back as Python") }
        if p.needsExpectedValues { out.append("call tests without expected values are written with expected null") }
        return out
    }

    static func checkerName(_ c: Checker) -> String {
        if case let .tolerance(a, r, _) = c { return "tolerance:\(max(a, r))" }
        return c.name
    }
}
