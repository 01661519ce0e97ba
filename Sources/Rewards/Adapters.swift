import Foundation

/// The data set formats `ProblemLoader` reads (`--format`).
public enum DataFormat: String, Sendable, CaseIterable {
    /// This project's JSONL (see Sources/Rewards/README.md).
    case native
    /// DeepCoder/rllm LiveCodeBench: `{problem, starter_code, tests: [{input, output, testtype, metadata?}]}`.
    case livecodebench
    /// TACO/APPS/code_contests dict: `{tests: {inputs, outputs, fn_name?}}` (or TACO's `input_output` string).
    case taco
    /// PrimeIntellect list: `{tests: [{input, output, type, fn_name?}]}` (or `verification_info.test_cases`).
    case primeintellect
    /// Codeforces/CodeElo list: `{problem, tests: [{input, output}]}`.
    case codeforces
    case humaneval
    case humanevalplus
    case mbpp
    /// sanitized-mbpp.json: `{prompt, code, test_imports, test_list}`.
    case mbppSanitized = "mbpp-sanitized"
    case mbppplus
    /// rllm LeetCode: `{problem, solutions, tests: {functional: "def check(candidate)... check(Solution().f)"}}`.
    case leetcode
    /// LeetCodeDataset: `{task_id, prompt, completion, entry_point, test}`.
    case leetcodedataset
    /// Code Jam / Kick Start packing: `{id, output_validator_flags, tests: [{group, name, input, output}]}`.
    case codejam
    case cruxeval
    /// DeepCoder's parquet rows as JSON: `{data_source, reward_model: {ground_truth}}`.
    case deepcoder
}

/// A problem file that cannot be read, naming where and what.
public struct AdapterError: Error, CustomStringConvertible, Sendable {
    public var file: String
    /// 1-based line for JSONL, 0-based element index for a JSON array ("record").
    public var location: String
    public var field: String?
    public var message: String
    public var description: String {
        "\(file): \(location)\(field.map { ", field '\($0)'" } ?? ""): \(message)"
    }
}

public struct ProblemSet: Sendable {
    public var format: DataFormat
    public var problems: [Problem]
    /// Data defects found and handled (dropped tests and why).
    public var warnings: [String]
}

public enum ProblemLoader {
    /// Reads a file's bytes; `.gz` files are decompressed with `gzip -dc`.
    public static func readFile(_ path: String) throws -> [UInt8] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AdapterError(file: path, location: "file", field: nil, message: "no such file or not readable")
        }
        if path.hasSuffix(".gz") {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") ? "/usr/bin/gzip" : "/bin/gzip")
            p.arguments = ["-dc", path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                throw AdapterError(file: path, location: "file", field: nil, message: "gzip could not decompress it")
            }
            return [UInt8](data)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AdapterError(file: path, location: "file", field: nil, message: "cannot read it")
        }
        return [UInt8](data)
    }

    /// The records of a JSONL file or of a JSON array, with their location for messages.
    public static func records(_ bytes: [UInt8], file: String) throws -> [(location: String, value: JSONValue)] {
        var start = 0
        while start < bytes.count, [0x20, 0x0A, 0x0D, 0x09, 0xEF, 0xBB, 0xBF].contains(bytes[start]) { start += 1 }
        if start < bytes.count, bytes[start] == UInt8(ascii: "[") {
            let v: JSONValue
            do { v = try JSONValue(parsing: bytes[...]) } catch {
                throw AdapterError(file: file, location: "document", field: nil, message: error.description)
            }
            return (v.arrayValue ?? []).enumerated().map { ("record \($0.offset)", $0.element) }
        }
        var out: [(String, JSONValue)] = []
        var lineNo = 0
        var i = 0
        while i < bytes.count {
            var j = i
            while j < bytes.count, bytes[j] != 0x0A { j += 1 }
            lineNo += 1
            let line = bytes[i..<j]
            if line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
                do { out.append(("line \(lineNo)", try JSONValue(parsing: line))) } catch {
                    throw AdapterError(file: file, location: "line \(lineNo)", field: nil, message: error.description)
                }
            }
            i = j + 1
        }
        return out
    }

    /// Loads a problem file in `format`, or the detected format.
    public static func load(path: String, format: DataFormat? = nil) throws -> ProblemSet {
        let recs = try records(try readFile(path), file: path)
        guard let first = recs.first else {
            throw AdapterError(file: path, location: "file", field: nil, message: "it holds no problems")
        }
        guard let fmt = format ?? detect(first.value) else {
            throw AdapterError(file: path, location: first.location, field: nil,
                               message: "cannot tell the data set format from the keys \(first.value.keys); pass --format (one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var problems: [Problem] = []
        problems.reserveCapacity(recs.count)
        for (n, rec) in recs.enumerated() {
            do {
                problems.append(try adapt(rec.value, index: n, format: fmt))
            } catch let e as FieldError {
                throw AdapterError(file: path, location: rec.location, field: e.field, message: e.message)
            }
        }
        var set = ProblemSet(format: fmt, problems: problems, warnings: [])
        dropSharedTests(&set)
        // Call tests that name no function in a problem without an entry point cannot run
        // (functional tests inside a stdin problem): dropped and reported.
        for i in set.problems.indices where set.problems[i].entryPoint == nil {
            let before = set.problems[i].tests.count
            set.problems[i].tests.removeAll { if case .call(nil, _, _) = $0.kind { return true } else { return false } }
            let n = before - set.problems[i].tests.count
            if n > 0 { set.problems[i].notes.append("\(n) function-call test(s) dropped: the problem names no function (a stdin problem)") }
        }
        var seen = Set<String>()
        for (n, p) in set.problems.enumerated() where !seen.insert(p.id).inserted {
            throw AdapterError(file: path, location: recs[n].location, field: "id", message: "duplicate problem id '\(p.id)'")
        }
        for p in set.problems where !p.notes.isEmpty {
            set.warnings.append(contentsOf: p.notes.map { "\(p.id): \($0)" })
        }
        return set
    }

    /// Recognizes a format from one record's keys.
    public static func detect(_ r: JSONValue) -> DataFormat? {
        let k = Set(r.keys)
        if r["format"]?.stringValue == "assay" { return .native }
        if k.contains("data_source"), k.contains("reward_model") { return .deepcoder }
        if k.contains("plus_input") {
            return (r["task_id"]?.stringValue ?? "").hasPrefix("Mbpp") ? .mbppplus : .humanevalplus
        }
        if k.isSuperset(of: ["prompt", "canonical_solution", "test", "entry_point"]) { return .humaneval }
        if k.contains("test_list") { return k.contains("test_imports") ? .mbppSanitized : .mbpp }
        if k.isSuperset(of: ["completion", "entry_point", "test"]) { return .leetcodedataset }
        if k.contains("output_validator_flags") { return .codejam }
        if k.isSuperset(of: ["code", "input", "output"]) { return .cruxeval }
        if k.contains("verification_info") { return .primeintellect }
        if k.contains("input_output") { return .taco }
        guard let rawTests = r["tests"] else { return nil }
        let tests = (try? decodedIfString(rawTests)) ?? rawTests
        if tests["functional"] != nil { return .leetcode }
        if tests["inputs"] != nil { return .taco }
        guard let first = tests.arrayValue?.first else { return nil }
        let tk = Set(first.keys)
        if tk.contains("stdin") || tk.contains("call") || tk.contains("script") || tk.contains("args") { return .native }
        if tk.contains("testtype") { return .livecodebench }
        if tk.contains("type") { return .primeintellect }
        if tk.contains("group") { return .codejam }
        if tk.contains("input"), tk.contains("output") { return .codeforces }
        return nil
    }

    struct FieldError: Error {
        var field: String
        var message: String
    }

    static func decodedIfString(_ v: JSONValue) throws -> JSONValue {
        if case .string(let s) = v { return try JSONValue(parsing: s) }
        return v
    }

    static func string(_ r: JSONValue, _ key: String, path: String? = nil) throws -> String {
        guard let v = r[key] else { throw FieldError(field: path ?? key, message: "missing") }
        guard let s = v.stringValue else { throw FieldError(field: path ?? key, message: "must be a string, got \(v.typeName)") }
        return s
    }

    static func optionalString(_ r: JSONValue, _ key: String) throws -> String? {
        guard let v = r[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw FieldError(field: key, message: "must be a string, got \(v.typeName)") }
        return s
    }

    static func array(_ r: JSONValue, _ key: String, path: String? = nil) throws -> [JSONValue] {
        guard let v = r[key] else { throw FieldError(field: path ?? key, message: "missing") }
        let d: JSONValue
        do { d = try decodedIfString(v) } catch { throw FieldError(field: path ?? key, message: "a string that is not JSON: \(error)") }
        guard let a = d.arrayValue else { throw FieldError(field: path ?? key, message: "must be an array, got \(d.typeName)") }
        return a
    }

    /// A text field that may be a string or a list of lines (TACO joins lists with "\n").
    static func text(_ v: JSONValue, field: String) throws -> String {
        switch v {
        case .string(let s): return s
        case .array(let a): return try a.enumerated().map { try text($0.element, field: "\(field)[\($0.offset)]") }.joined(separator: "\n")
        case .int(let s): return s
        case .double(let d): return "\(d)"
        default: throw FieldError(field: field, message: "must be a string, got \(v.typeName)")
        }
    }

    static func id(_ r: JSONValue, format: DataFormat, index: Int) -> String {
        for key in ["id", "task_id", "problem_id", "question_id"] {
            if let s = r[key]?.stringValue { return s }
            if case .int(let s)? = r[key] { return format == .mbpp ? "mbpp/\(s)" : s }
        }
        return "\(format.rawValue)/\(index)"
    }

    /// The method name in a `class Solution` starter, LiveCodeBench style.
    static func methodName(starter: String) -> String? {
        var last: String?
        for line in starter.split(separator: "\n") {
            let t = line.drop(while: { $0 == " " || $0 == "\t" })
            guard t.hasPrefix("def ") else { continue }
            let name = t.dropFirst(4).prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
            if !name.isEmpty { last = String(name) }
        }
        return last
    }

    // MARK: - Per format

    public static func adapt(_ r: JSONValue, index: Int, format: DataFormat) throws -> Problem {
        guard case .object = r else { throw FieldError(field: "(record)", message: "must be a JSON object, got \(r.typeName)") }
        let pid = id(r, format: format, index: index)
        switch format {
        case .native: return try native(r, index: index)
        case .deepcoder:
            let source = try string(r, "data_source")
            guard let gt = r["reward_model"]?["ground_truth"] else { throw FieldError(field: "reward_model.ground_truth", message: "missing") }
            let tests: JSONValue
            do { tests = try decodedIfString(gt) } catch { throw FieldError(field: "reward_model.ground_truth", message: "not JSON: \(error)") }
            let statement = r["prompt"]?.arrayValue?.first?["content"]?.stringValue
            let inner: JSONValue = .object([("tests", tests), ("problem", .string(statement ?? ""))])
            let f: DataFormat
            switch source {
            case "taco", "apps", "code_contests": f = .taco
            case "livecodebench": f = .livecodebench
            case "primeintellect": f = .primeintellect
            case "codeforces": f = .codeforces
            case "leetcode": f = .leetcode
            default: throw FieldError(field: "data_source", message: "unsupported data source '\(source)'")
            }
            var p = try adapt(inner, index: index, format: f)
            p.id = r["extra_info"]?["index"].map { "\(source)/\($0.jsonText)" } ?? "\(source)/\(index)"
            return p
        case .livecodebench:
            let starter = try optionalString(r, "starter_code") ?? ""
            let tests = try array(r, "tests")
            var fn: String? = methodName(starter: starter)
            var cases: [TestCase] = []
            for (n, t) in tests.enumerated() {
                let type = try string(t, "testtype", path: "tests[\(n)].testtype")
                let input = try string(t, "input", path: "tests[\(n)].input")
                let output = try string(t, "output", path: "tests[\(n)].output")
                if let name = t["metadata"]?["func_name"]?.stringValue { fn = fn ?? name }
                switch type {
                case "stdin": cases.append(.stdio(input, output))
                case "functional":
                    let args = try argumentLines(input, field: "tests[\(n)].input")
                    let expected: JSONValue
                    do { expected = try JSONValue(parsing: output) } catch {
                        throw FieldError(field: "tests[\(n)].output", message: "not JSON: \(error)")
                    }
                    cases.append(.call(nil, args, expected: expected))
                default: throw FieldError(field: "tests[\(n)].testtype", message: "must be 'stdin' or 'functional', got '\(type)'")
                }
            }
            return Problem(id: pid, source: "livecodebench", statement: try optionalString(r, "problem"), tests: cases, entryPoint: fn,
                           checker: .lcb, callComparison: .exact, timeLimitSeconds: 6)
        case .taco:
            let raw: JSONValue
            if let io = r["input_output"] {
                do { raw = try decodedIfString(io) } catch { throw FieldError(field: "input_output", message: "not JSON: \(error)") }
            } else {
                guard let t = r["tests"] else { throw FieldError(field: "tests", message: "missing") }
                do { raw = try decodedIfString(t) } catch { throw FieldError(field: "tests", message: "not JSON: \(error)") }
            }
            let f = r["input_output"] != nil ? "input_output" : "tests"
            guard let inputs = raw["inputs"]?.arrayValue else { throw FieldError(field: "\(f).inputs", message: "missing or not an array") }
            guard let outputs = raw["outputs"]?.arrayValue else { throw FieldError(field: "\(f).outputs", message: "missing or not an array") }
            guard inputs.count == outputs.count else {
                throw FieldError(field: "\(f).outputs", message: "\(outputs.count) outputs for \(inputs.count) inputs")
            }
            let fn = raw["fn_name"]?.stringValue
            var cases: [TestCase] = []
            for (n, (i, o)) in zip(inputs, outputs).enumerated() {
                if fn != nil {
                    cases.append(try tacoCall(input: i, output: o, field: "\(f)", index: n))
                } else {
                    cases.append(.stdio(try text(i, field: "\(f).inputs[\(n)]"), try text(o, field: "\(f).outputs[\(n)]")))
                }
            }
            var refs: [String] = []
            if let sols = r["solutions"] {
                let decoded = (try? decodedIfString(sols)) ?? sols
                refs = decoded.arrayValue?.compactMap(\.stringValue) ?? (decoded.stringValue.map { [$0] } ?? [])
            }
            return Problem(id: pid, source: "taco", statement: try optionalString(r, "problem") ?? (try optionalString(r, "question")), tests: cases,
                           entryPoint: fn, callComparison: .tacoUnwrap, timeLimitSeconds: 12, referenceSolutions: refs)
        case .primeintellect:
            var tests: [JSONValue]
            if let vi = r["verification_info"] {
                let d = (try? decodedIfString(vi)) ?? vi
                guard let tc = d["test_cases"]?.arrayValue else { throw FieldError(field: "verification_info.test_cases", message: "missing or not an array") }
                tests = tc
            } else {
                tests = try array(r, "tests")
            }
            let fn = tests.first?["fn_name"]?.stringValue
            var cases: [TestCase] = []
            for (n, t) in tests.enumerated() {
                let type = t["type"]?.stringValue ?? "stdin_stdout"
                let input = try text(t["input"] ?? .null, field: "tests[\(n)].input")
                let output = try text(t["output"] ?? .null, field: "tests[\(n)].output")
                if type == "function_call" {
                    let a = (try? JSONValue(parsing: input)) ?? .string(input)
                    let e = (try? JSONValue(parsing: output)) ?? .string(output)
                    cases.append(.call(nil, a.arrayValue ?? [a], expected: e))
                } else {
                    cases.append(.stdio(input, output))
                }
            }
            return Problem(id: pid, source: "primeintellect", statement: try optionalString(r, "problem") ?? (try optionalString(r, "prompt")),
                           tests: cases, entryPoint: fn, callComparison: .tacoUnwrap, timeLimitSeconds: 12,
                           referenceSolutions: (try optionalString(r, "gold_standard_solution")).map { [CodeExtractor.extract($0)?.code ?? $0] } ?? [])
        case .codeforces:
            let tests = try array(r, "tests")
            let cases = try tests.enumerated().map { n, t in
                TestCase.stdio(try text(t["input"] ?? .null, field: "tests[\(n)].input"), try text(t["output"] ?? .null, field: "tests[\(n)].output"))
            }
            return Problem(id: pid, source: "codeforces", statement: try optionalString(r, "problem"), tests: cases, checker: .lcb, timeLimitSeconds: 12)
        case .humaneval, .humanevalplus:
            let prompt = try string(r, "prompt"), entry = try string(r, "entry_point")
            let canonical = try string(r, "canonical_solution")
            var p = Problem(id: pid, source: format.rawValue, statement: prompt, tests: [], entryPoint: entry,
                            timeLimitSeconds: 10, setupCode: prompt, solutionPrefix: prompt, referenceSolutions: [canonical])
            if format == .humaneval {
                p.tests = [.script(try string(r, "test"), name: "check")]
                p.scriptCallsCheck = true
            } else {
                p.tests = try plusInputs(r)
                p.callComparison = .absoluteTolerance(r["atol"]?.doubleValue ?? 0)
                p.maxTests = 0
                p.timeLimitSeconds = 5
            }
            return p
        case .mbppplus:
            let entry = try string(r, "entry_point")
            var p = Problem(id: pid, source: "mbppplus", statement: try optionalString(r, "prompt"), tests: try plusInputs(r), entryPoint: entry,
                            callComparison: .absoluteTolerance(r["atol"]?.doubleValue ?? 0), timeLimitSeconds: 5,
                            setupCode: "import math", referenceSolutions: [try string(r, "canonical_solution")])
            p.maxTests = 0
            return p
        case .mbpp, .mbppSanitized:
            let asserts = try array(r, "test_list").enumerated().map { try text($0.element, field: "test_list[\($0.offset)]") }
            let setup: String
            if format == .mbpp {
                setup = try optionalString(r, "test_setup_code") ?? ""
            } else {
                setup = try array(r, "test_imports").compactMap(\.stringValue).joined(separator: "\n")
            }
            let entry = asserts.lazy.compactMap { mbppEntry($0) }.first
            // MBPP's order: the code, then test_setup_code, then the asserts.
            return Problem(id: pid, source: format.rawValue, statement: try optionalString(r, "text") ?? (try optionalString(r, "prompt")),
                           tests: [.script(setup + "\n" + asserts.joined(separator: "\n") + "\n", name: "asserts")], entryPoint: entry,
                           timeLimitSeconds: 10, referenceSolutions: [try string(r, "code")])
        case .leetcode:
            guard let tests = r["tests"] else { throw FieldError(field: "tests", message: "missing") }
            let t = (try? decodedIfString(tests)) ?? tests
            guard let functional = t["functional"]?.stringValue else { throw FieldError(field: "tests.functional", message: "missing or not a string") }
            // The script ends with `check(Solution().method)`: the driver makes that call itself.
            var lines = functional.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while let l = lines.last, l.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
            guard let last = lines.last, last.hasPrefix("check("), last.hasSuffix(")") else {
                throw FieldError(field: "tests.functional", message: "does not end with check(<candidate>)")
            }
            let entry = String(last.dropFirst("check(".count).dropLast())
            lines.removeLast()
            var refs: [String] = []
            if let s = r["solutions"] { refs = s.stringValue.map { [$0] } ?? (s.arrayValue?.compactMap(\.stringValue) ?? []) }
            var p = Problem(id: pid, source: "leetcode", statement: try optionalString(r, "problem"),
                            tests: [.script(lines.joined(separator: "\n") + "\n", name: "check")], entryPoint: entry,
                            timeLimitSeconds: 30, setupCode: PythonHarness.leetCodePrelude, referenceSolutions: refs)
            p.scriptCallsCheck = true
            return p
        case .leetcodedataset:
            var p = Problem(id: pid, source: "leetcodedataset", statement: try optionalString(r, "problem_description") ?? (try optionalString(r, "query")),
                            tests: [.script(try string(r, "test"), name: "check")], entryPoint: try string(r, "entry_point"),
                            timeLimitSeconds: 30, setupCode: try optionalString(r, "prompt"), referenceSolutions: [try string(r, "completion")])
            p.scriptCallsCheck = true
            return p
        case .codejam:
            let flags = try optionalString(r, "output_validator_flags") ?? ""
            let words = flags.split(separator: " ").map(String.init)
            var abs = 0.0, rel = 0.0
            var caseSensitive = false
            for (n, w) in words.enumerated() {
                let next = n + 1 < words.count ? Double(words[n + 1]) : nil
                switch w {
                case "float_tolerance": abs = next ?? 0; rel = next ?? 0
                case "float_absolute_tolerance": abs = next ?? 0
                case "float_relative_tolerance": rel = next ?? 0
                case "case_sensitive": caseSensitive = true
                default: break
                }
            }
            let tests = try array(r, "tests").enumerated().map { n, t in
                TestCase.stdio(try string(t, "input", path: "tests[\(n)].input"), try string(t, "output", path: "tests[\(n)].output"),
                               name: [t["group"]?.stringValue, t["name"]?.stringValue].compactMap { $0 }.joined(separator: "/"))
            }
            return Problem(id: pid, source: "codejam", statement: try optionalString(r, "statement_html"), tests: tests,
                           checker: .tolerance(absolute: abs, relative: rel, caseSensitive: caseSensitive), timeLimitSeconds: 20)
        case .cruxeval:
            let code = try string(r, "code")
            return Problem(id: pid, source: "cruxeval", tests: [.script("assert f(\(try string(r, "input"))) == \(try string(r, "output"))\n", name: "assert")],
                           entryPoint: "f", timeLimitSeconds: 10, referenceSolutions: [code])
        }
    }

    /// `assert name(` → name (MBPP).
    static func mbppEntry(_ line: String) -> String? {
        var t = Substring(line).drop(while: { $0 == " " })
        guard t.hasPrefix("assert") else { return nil }
        t = t.dropFirst("assert".count).drop(while: { $0 == " " || $0 == "(" })
        for prefix in ["math.isclose(", "set(", "sorted(", "abs(", "round(", "str(", "list(", "tuple(", "int(", "float("] where t.hasPrefix(prefix) {
            t = t.dropFirst(prefix.count)
        }
        let name = t.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !name.isEmpty, t.dropFirst(name.count).first == "(" else { return nil }
        return String(name)
    }

    /// EvalPlus base_input + plus_input as call tests whose expected values come from the
    /// canonical solution.
    static func plusInputs(_ r: JSONValue) throws -> [TestCase] {
        let base = try array(r, "base_input")
        let plus = r["plus_input"]?.arrayValue ?? []  // a few MBPP+ dev rows hold {}
        return try (base + plus).enumerated().map { n, a in
            guard let args = a.arrayValue else { throw FieldError(field: n < base.count ? "base_input[\(n)]" : "plus_input[\(n - base.count)]", message: "must be an argument list") }
            return TestCase.call(nil, args, expected: nil, name: n < base.count ? "base\(n)" : "plus\(n - base.count)")
        }
    }

    /// Tests shared by (nearly) every problem of a file belong to none of them: the rllm
    /// LiveCodeBench file with private tests ends every problem with the same 12 functional tests
    /// (code-data/SOURCES.md, "Known defects"). With 10 or more problems, a test (same kind,
    /// input and output) present in 90% of them is dropped and reported.
    static func dropSharedTests(_ set: inout ProblemSet) {
        guard set.problems.count >= 10 else { return }
        var counts: [TestCase.Kind: Int] = [:]
        for p in set.problems {
            for k in Set(p.tests.map(\.kind)) { counts[k, default: 0] += 1 }
        }
        let threshold = Int((Double(set.problems.count) * 0.9).rounded(.up))
        let shared = Set(counts.filter { $0.value >= threshold }.map(\.key))
        guard !shared.isEmpty else { return }
        var dropped = 0
        for i in set.problems.indices {
            let before = set.problems[i].tests.count
            set.problems[i].tests.removeAll { shared.contains($0.kind) }
            dropped += before - set.problems[i].tests.count
        }
        set.warnings.append("dropped \(shared.count) test(s) found in at least 90% of the \(set.problems.count) problems (\(dropped) in all): they belong to no problem (a known data defect)")
    }

    // MARK: - Native format

    static func native(_ r: JSONValue, index: Int) throws -> Problem {
        let pid: String
        if let s = r["id"]?.stringValue { pid = s } else if case .int(let s)? = r["id"] { pid = s } else {
            throw FieldError(field: "id", message: "missing (a string)")
        }
        let tests = try array(r, "tests")
        guard !tests.isEmpty else { throw FieldError(field: "tests", message: "must hold at least one test") }
        var cases: [TestCase] = []
        for (n, t) in tests.enumerated() {
            let name = t["name"]?.stringValue
            if t["stdin"] != nil || t["stdout"] != nil {
                cases.append(.stdio(try string(t, "stdin", path: "tests[\(n)].stdin"), try string(t, "stdout", path: "tests[\(n)].stdout"), name: name))
            } else if t["args"] != nil {
                guard let args = t["args"]?.arrayValue else { throw FieldError(field: "tests[\(n)].args", message: "must be an array (one JSON value per argument)") }
                guard let expected = t["expected"] else { throw FieldError(field: "tests[\(n)].expected", message: "missing") }
                let fn = t["call"]?.stringValue
                cases.append(.call(fn, args, expected: expected, name: name))
            } else if let s = t["script"] {
                guard let code = s.stringValue else { throw FieldError(field: "tests[\(n)].script", message: "must be a string") }
                cases.append(.script(code, name: name))
            } else {
                throw FieldError(field: "tests[\(n)]", message: "a test needs stdin+stdout, args+expected (and optional call), or script")
            }
        }
        var checker: Checker?
        if let c = try optionalString(r, "checker") {
            guard let parsed = Checker(name: c) else { throw FieldError(field: "checker", message: "unknown checker '\(c)'; use one of \(Checker.names.joined(separator: ", "))") }
            checker = parsed
        }
        var comparison = CallComparison.exact
        if let c = r["call_comparison"] {
            switch c.stringValue {
            case "exact": comparison = .exact
            case "taco": comparison = .tacoUnwrap
            default:
                guard let atol = c["atol"]?.doubleValue else { throw FieldError(field: "call_comparison", message: "must be \"exact\", \"taco\" or {\"atol\": number}") }
                comparison = .absoluteTolerance(atol)
            }
        }
        func number(_ key: String, _ range: ClosedRange<Double>, _ unit: String) throws -> Double? {
            guard let v = r[key], !v.isNull else { return nil }
            guard let d = v.doubleValue else { throw FieldError(field: key, message: "must be a number, got \(v.typeName)") }
            if let problem = LimitRanges.violation(d, range, unit) { throw FieldError(field: key, message: problem) }
            return d
        }
        var solutions: [String] = []
        if let s = r["solutions"] {
            guard let a = s.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else { throw FieldError(field: "solutions", message: "must be an array of strings") }
            solutions = a.compactMap(\.stringValue)
        }
        var p = Problem(id: pid, source: try optionalString(r, "source") ?? "native", statement: try optionalString(r, "statement"), tests: cases,
                        entryPoint: try optionalString(r, "entry_point"), checker: checker, callComparison: comparison,
                        timeLimitSeconds: try number("time_limit", LimitRanges.testSeconds, "CPU seconds per test"),
                        memoryLimitMiB: try number("memory_mb", LimitRanges.memoryMiB, "MiB").map { Int($0) },
                        setupCode: try optionalString(r, "setup"), solutionPrefix: try optionalString(r, "solution_prefix"),
                        referenceSolutions: solutions)
        p.scriptCallsCheck = r["check_entry_point"]?.boolValue ?? false
        if let m = r["max_tests"] {
            guard let n = m.intValue, n >= 0 else { throw FieldError(field: "max_tests", message: "must be a non-negative integer") }
            p.maxTests = n
        }
        if cases.contains(where: { if case .call(nil, _, _) = $0.kind { return true } else { return false } }), p.entryPoint == nil {
            throw FieldError(field: "entry_point", message: "required: a call test names no function")
        }
        return p
    }
}
