import Hummingbird
import Rewards

/// OpenRLHF's remote reward (`--reward.remote_url http://host:8080/get_reward`, formerly
/// `--remote_rm_url`): `{query, prompts, labels}` → `{rewards, scores, extra_logs}`.
///
/// `query[i]` is the decoded prompt + response with the chat template; the response is what
/// follows `prompts[i]` in it (the whole query when the prompt is not found). `labels[i]` names
/// the problem: a problem id from `--data`, an inline problem as JSON text (native or any
/// detected format), or verl/TACO-style ground truth `{"inputs": [...], "outputs": [...],
/// "fn_name"?: ...}`. A reward is 1 iff every sampled test passes; an item that could not be
/// graded scores 0 with `extra_logs.error` 1.
struct OpenRLHFController {
    let services: ServerServices

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/get_reward") { request, _ in try await reward(request) }
    }

    static func strings(_ f: Fields, _ key: String, required: Bool) throws -> [String]? {
        guard let a = required ? try f.array(key) : try f.optionalArray(key) else { return nil }
        return try a.enumerated().map { n, v in
            guard let s = v.stringValue else { throw badRequest("field '\(key)[\(n)]' must be a string, got \(v.typeName)") }
            return s
        }
    }

    func reward(_ request: Request) async throws -> Response {
        let body = try await readJSON(request, limit: services.configuration.maxBodyBytes)
        let f = try Fields(body)
        let queries = try Self.strings(f, "query", required: true)!
        let prompts = try Self.strings(f, "prompts", required: false) ?? []
        let labels = try Self.strings(f, "labels", required: false) ?? []
        if queries.isEmpty {
            return jsonResponse(.object([("rewards", .array([])), ("scores", .array([])), ("extra_logs", .object([]))]))
        }
        guard labels.count == queries.count else {
            throw badRequest("'labels' has \(labels.count) entries for \(queries.count) queries; each query needs a label naming its problem (--data.label_key)")
        }
        guard prompts.isEmpty || prompts.count == queries.count else {
            throw badRequest("'prompts' has \(prompts.count) entries for \(queries.count) queries")
        }
        guard queries.count <= services.configuration.maxBatchItems else {
            throw badRequest("\(queries.count) queries in one request; the limit is \(services.configuration.maxBatchItems)")
        }
        var items: [GradeItem] = []
        for (n, query) in queries.enumerated() {
            let problem = try resolve(label: labels[n], index: n)
            let response = Self.response(query: query, prompt: prompts.isEmpty ? nil : prompts[n])
            items.append(GradeItem(index: n, clientID: nil, problem: problem.0, fromDataSet: problem.1,
                                   answer: .response(response), raw: .null))
        }
        let results = try await services.gradeBatch(GradeBatch(items: items, options: GradeOptions()))
        let rewards = results.map { JSONValue.double(Double($0["reward"]?.intValue ?? 0)) }
        let errors = results.map { JSONValue.double(($0["error"]?.isNull ?? true) ? 0 : 1) }
        let fractions = results.map { r -> JSONValue in
            let n = r["tests_selected"]?.intValue ?? 0
            return .double(n == 0 ? 0 : Double(r["tests_passed"]?.intValue ?? 0) / Double(n))
        }
        return jsonResponse(.object([
            ("rewards", .array(rewards)), ("scores", .array(rewards)),
            ("extra_logs", .object([("pass", .array(rewards)), ("test_pass_fraction", .array(fractions)), ("grading_error", .array(errors))])),
        ]))
    }

    static func response(query: String, prompt: String?) -> String {
        guard let prompt, !prompt.isEmpty, let range = query.range(of: prompt, options: .backwards) else { return query }
        return String(query[range.upperBound...])
    }

    func resolve(label: String, index n: Int) throws -> (Problem, Bool) {
        if let p = services.dataSets.problem(label) { return (p, true) }
        guard let value = try? JSONValue(parsing: label), case .object = value else {
            throw HTTPError(.notFound, message: "labels[\(n)]: '\(label.prefix(80))' is neither a problem id loaded with --data (\(services.dataSets.summary)) nor a JSON problem")
        }
        if value["inputs"] != nil, value["outputs"] != nil {
            // verl/TACO ground truth: the tests object of a TACO record.
            let wrapped: JSONValue = .object([("tests", value)])
            do { return (try ProblemLoader.adapt(wrapped, index: n, format: .taco), false) } catch {
                throw badRequest("labels[\(n)] is not valid TACO-style ground truth: \(describeAdapterError(error))")
            }
        }
        return (try GradeBatch.parseInlineProblem(value, format: nil, path: "labels[\(n)]", index: n), false)
    }
}

import Foundation
