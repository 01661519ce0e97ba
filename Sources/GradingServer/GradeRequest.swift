import Hummingbird
import Rewards
import Sandboxing

/// One item of a native grading batch, resolved and validated.
struct GradeItem: Sendable {
    var index: Int
    /// The client's own id, echoed back.
    var clientID: JSONValue?
    var problem: Problem
    /// True when the problem came from a data set loaded at start (expected values cached).
    var fromDataSet: Bool
    /// A model response (the last closed fenced block is graded), or bare code with a language.
    var answer: Answer
    /// The item as sent, stored with async jobs so a restart re-resolves it.
    var raw: JSONValue

    enum Answer: Sendable {
        case response(String)
        case code(String, Language)
    }
}

/// Batch-wide grading options (`options` in the request).
struct GradeOptions: Sendable {
    var grader = GraderOptions()
    /// `invalid_items: "error"`: an item that cannot be read (unknown problem id, malformed
    /// problem) gets an error result and the rest are graded, instead of a 4xx for the batch.
    var reportInvalidItems = false

    static func parse(_ f: Fields?) throws -> GradeOptions {
        var o = GradeOptions()
        guard let f else { return o }
        if let m = try f.optionalInt("max_tests") {
            guard m >= 0 else { throw badRequest("field 'options.max_tests' must be 0 (all) or more") }
            o.grader.maxTestsOverride = m
        }
        if let c = try f.optionalString("checker") {
            guard let checker = Checker(name: c) else {
                throw badRequest("field 'options.checker': unknown checker '\(c)'; use one of \(Checker.names.joined(separator: ", "))")
            }
            o.grader.checker = checker
        }
        if let t = try f.optionalLimit("time_limit", LimitRanges.testSeconds, "CPU seconds per test") {
            o.grader.timeLimitSeconds = t
        }
        if let m = try f.optionalLimit("memory_mb", LimitRanges.memoryMiB, "MiB") {
            o.grader.defaultMemoryLimitMiB = Int(m)
        }
        if let s = try f.optionalBool("stop_at_first_failure") { o.grader.stopAtFirstFailure = s }
        if let v = try f.optionalString("invalid_items") {
            guard v == "reject" || v == "error" else {
                throw badRequest("field 'options.invalid_items' must be \"reject\" (a 4xx for the batch, the default) or \"error\" (an error result for that item)")
            }
            o.reportInvalidItems = v == "error"
        }
        return o
    }

    /// The options as stored with a job.
    var json: JSONValue {
        var o: [(String, JSONValue)] = []
        if let m = grader.maxTestsOverride { o.append(("max_tests", .number(m))) }
        if let c = grader.checker { o.append(("checker", .string(c.name))) }
        if let t = grader.timeLimitSeconds { o.append(("time_limit", .double(t))) }
        o.append(("memory_mb", .number(grader.defaultMemoryLimitMiB)))
        o.append(("stop_at_first_failure", .bool(grader.stopAtFirstFailure)))
        if reportInvalidItems { o.append(("invalid_items", .string("error"))) }
        return .object(o)
    }
}

/// The body of `POST /v1/grade` and `POST /v1/jobs`.
struct GradeBatch: Sendable {
    var items: [GradeItem]
    var options: GradeOptions
    /// Items that could not be read, by request index, with why (`invalid_items: "error"` only).
    var invalid: [Int: String] = [:]
    /// Every item as sent, in order (what a job stores).
    var rawItems: [JSONValue] = []

    static func parse(_ body: JSONValue, dataSets: DataSets, maxItems: Int) throws -> GradeBatch {
        let f = try Fields(body)
        let rawItems = try f.array("items")
        guard !rawItems.isEmpty else { throw badRequest("field 'items' is empty; send at least one {problem or problem_id, response} item") }
        guard rawItems.count <= maxItems else {
            throw badRequest("field 'items' holds \(rawItems.count) items; the limit per request is \(maxItems) (use POST /v1/jobs for large batches, or split it)")
        }
        let options = try GradeOptions.parse(try f.optionalObject("options"))
        var items: [GradeItem] = []
        items.reserveCapacity(rawItems.count)
        var invalid: [Int: String] = [:]
        for (n, raw) in rawItems.enumerated() {
            do {
                items.append(try parseItem(raw, index: n, dataSets: dataSets))
            } catch let error as HTTPError where options.reportInvalidItems {
                invalid[n] = error.body ?? "\(error)"
            }
        }
        return GradeBatch(items: items, options: options, invalid: invalid, rawItems: rawItems)
    }

    /// The result of an item that could not be read (same shape as a graded one).
    static func invalidResult(index: Int, raw: JSONValue, message: String) -> JSONValue {
        var o: [(String, JSONValue)] = [("index", .number(index))]
        if let id = raw["id"], case .string = id { o.append(("id", id)) } else if let id = raw["id"], case .int = id { o.append(("id", id)) }
        o += [("reward", .null), ("reason", .string("error")), ("tests_selected", .number(0)), ("tests_passed", .number(0)),
              ("tests", .array([])), ("error", .string("invalid item: \(message)"))]
        return .object(o)
    }

    static func parseItem(_ raw: JSONValue, index n: Int, dataSets: DataSets) throws -> GradeItem {
        let f = try Fields(raw, path: "items[\(n)]")
        var clientID: JSONValue?
        if let id = f.value["id"], !id.isNull {
            switch id {
            case .string, .int: clientID = id
            default: throw f.wrongType("id", "a string or an integer", id)
            }
        }
        let problem: Problem
        let fromDataSet: Bool
        // Checked even when an inline problem wins, as the response's type is.
        switch f.value["problem_id"] {
        case nil, .null?, .string?, .int?: break
        case let other?: throw f.wrongType("problem_id", "a string or an integer", other)
        }
        if let inline = f.value["problem"], !inline.isNull {
            problem = try parseInlineProblem(inline, format: try f.optionalString("format"), path: f.name("problem"), index: n)
            fromDataSet = false
        } else if let pidValue = f.value["problem_id"], !pidValue.isNull {
            let pid: String
            switch pidValue {
            case .string(let s): pid = s
            case .int(let s): pid = s
            default: throw f.wrongType("problem_id", "a string or an integer", pidValue)
            }
            guard let p = dataSets.problem(pid) else {
                throw HTTPError(.notFound, message: "items[\(n)].problem_id: no problem '\(pid)' in the data sets loaded at start (\(dataSets.summary))")
            }
            problem = p
            fromDataSet = true
        } else {
            throw badRequest("items[\(n)] needs 'problem' (inline, native format) or 'problem_id' (from --data)")
        }
        let answer: GradeItem.Answer
        let response = try f.optionalString("response")  // its type is checked even when code wins
        if let code = try f.optionalString("code") {
            let name = try f.optionalString("language") ?? "python"
            guard let lang = RunCodeController.languages[name] else {
                throw badRequest("field 'items[\(n)].language': unsupported language '\(name)'; use python or cpp")
            }
            answer = .code(code, lang)
        } else {
            guard let response else { throw badRequest("field 'items[\(n)].response' is missing; send the model's response, or code (+ language)") }
            answer = .response(response)
        }
        return GradeItem(index: n, clientID: clientID, problem: problem, fromDataSet: fromDataSet, answer: answer, raw: raw)
    }

    static func parseInlineProblem(_ v: JSONValue, format: String?, path: String, index: Int) throws -> Problem {
        guard case .object(var pairs) = v else { throw badRequest("field '\(path)' must be a JSON object, got \(v.typeName)") }
        var fmt: DataFormat?
        if let format {
            guard let f = DataFormat(rawValue: format) else {
                throw badRequest("field 'items[\(index)].format': unknown format '\(format)'; use one of \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            fmt = f
        }
        let resolved = fmt ?? ProblemLoader.detect(v) ?? .native
        if resolved == .native, v["id"] == nil { pairs.append(("id", .string("item-\(index)"))) }
        do {
            return try ProblemLoader.adapt(.object(pairs), index: index, format: resolved)
        } catch {
            throw badRequest("field '\(path)' is not a valid \(resolved.rawValue) problem: \(describeAdapterError(error))")
        }
    }
}

/// The adapters' field errors are internal to Rewards: read their field and message by name.
func describeAdapterError(_ error: any Error) -> String {
    var field: String?
    var message: String?
    for child in Mirror(reflecting: error).children {
        if child.label == "field" { field = (child.value as? String) ?? (child.value as? String?) ?? nil }
        if child.label == "message" { message = child.value as? String }
    }
    if let message { return field.map { "field '\($0)': \(message)" } ?? message }
    return String(describing: error)
}

// MARK: - Results

enum GradeOutput {
    static func item(_ item: GradeItem, _ r: GradeResult, elapsedMs: Double) -> JSONValue {
        var o: [(String, JSONValue)] = [("index", .number(item.index))]
        if let id = item.clientID { o.append(("id", id)) }
        o.append(("problem_id", .string(item.problem.id)))
        o.append(("reward", r.reward.map { .number($0) } ?? .null))
        o.append(("reason", .string(r.reason)))
        if !r.detail.isEmpty { o.append(("detail", .string(r.detail))) }
        if let l = r.language { o.append(("language", .string(l.rawValue))) }
        o.append(("tests_selected", .number(r.testsSelected)))
        o.append(("tests_passed", .number(r.tests.filter { $0.verdict == .ok }.count)))
        o.append(("tests", .array(r.tests.map { t in
            var e: [(String, JSONValue)] = [("index", .number(t.index)), ("verdict", .string(t.verdict.rawValue))]
            if let n = t.name { e.append(("name", .string(n))) }
            e.append(("cpu_ms", .ms(t.cpuMilliseconds)))
            e.append(("wall_ms", .ms(t.wallMilliseconds)))
            e.append(("memory_kb", .number(t.memoryBytes / 1024)))
            if !t.detail.isEmpty { e.append(("detail", .string(t.detail))) }
            return .object(e)
        })))
        o.append(("error", r.error.map { .string($0) } ?? .null))
        o.append(("elapsed_ms", .ms(elapsedMs)))
        return .object(o)
    }

    /// An item the server could not grade at all (deadline, shutdown).
    static func failed(_ item: GradeItem, _ message: String) -> JSONValue {
        self.item(item, .failure(message), elapsedMs: 0)
    }

    static func summary(_ results: [JSONValue], elapsedMs: Double) -> JSONValue {
        let passed = results.filter { $0["reward"]?.intValue == 1 }.count
        let errors = results.filter { !($0["error"]?.isNull ?? true) }.count
        return .object([
            ("items", .number(results.count)), ("passed", .number(passed)), ("errors", .number(errors)),
            ("elapsed_ms", .ms(elapsedMs)),
        ])
    }
}
