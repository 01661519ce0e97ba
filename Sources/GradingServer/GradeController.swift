import HTTPTypes
import Hummingbird
import Rewards

/// Native batch grading (`POST /v1/grade`) and durable async jobs (`/v1/jobs`).
struct GradeController {
    let services: ServerServices
    let runner: JobRunner?

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/grade") { request, _ in try await grade(request) }
        router.post("/v1/jobs") { request, _ in try await submitJob(request) }
        router.get("/v1/jobs/{id}") { request, context in try await job(request, context: context) }
    }

    func grade(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        let body = try await readJSON(request, limit: services.configuration.maxBodyBytes)
        let batch = try GradeBatch.parse(body, dataSets: services.dataSets, maxItems: services.configuration.maxBatchItems)
        var graded = try await services.gradeBatch(batch).makeIterator()
        let results = batch.rawItems.enumerated().map { n, raw in
            batch.invalid[n].map { GradeBatch.invalidResult(index: n, raw: raw, message: $0) } ?? graded.next()!
        }
        let ms = (ContinuousClock.now - start).seconds * 1000
        return jsonResponse(.object([("results", .array(results)), ("summary", GradeOutput.summary(results, elapsedMs: ms))]))
    }

    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    func submitJob(_ request: Request) async throws -> Response {
        let limit = services.configuration.maxBodyBytes * 4
        let body = try await readJSON(request, limit: limit)
        let batch = try GradeBatch.parse(body, dataSets: services.dataSets, maxItems: services.configuration.maxJobItems)
        let key = request.headers[Self.idempotencyHeader]
        if let key, key.isEmpty || key.count > 255 {
            throw badRequest("the Idempotency-Key header must be 1 to 255 characters")
        }
        // Every item as sent: one that cannot be read is reported when its turn comes.
        let items = batch.rawItems.map(\.jsonText)
        let optionsText = batch.options.json.jsonText
        let hash = fnv1a((items.joined(separator: "\n") + "\n" + optionsText).utf8)
        let stored: (id: String, created: Bool)
        do {
            stored = try await services.jobs.submit(idempotencyKey: key, bodyHash: hash, options: optionsText, items: items)
        } catch is JobStore.KeyConflict {
            throw HTTPError(.unprocessableContent, message: "the Idempotency-Key '\(key ?? "")' was already used for a different job body; use a new key for a new job")
        }
        if stored.created { runner?.notify() }
        guard let snap = try await services.jobs.snapshot(stored.id, withResults: false) else {
            throw HTTPError(.internalServerError, message: "the job was stored but cannot be read back")
        }
        return jsonResponse(Self.describe(snap, includeResults: false), status: stored.created ? .accepted : .ok,
                            headers: [.location: "/v1/jobs/\(stored.id)"])
    }

    func job(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let results = request.uri.queryParameters.get("results")
        guard results == nil || results == "true" || results == "false" else {
            throw badRequest("query parameter 'results' must be true or false, got '\(results ?? "")'")
        }
        let withResults = results != "false"
        guard let snap = try await services.jobs.snapshot(id, withResults: withResults) else {
            throw HTTPError(.notFound, message: "no job '\(id)'")
        }
        return jsonResponse(Self.describe(snap, includeResults: withResults))
    }

    static func describe(_ s: JobStore.Snapshot, includeResults: Bool) -> JSONValue {
        var o: [(String, JSONValue)] = [
            ("id", .string(s.id)), ("status", .string(s.state)), ("total", .number(s.total)), ("completed", .number(s.completed)),
            ("progress", .double(s.total == 0 ? 1 : (Double(s.completed) / Double(s.total) * 10000).rounded() / 10000)),
            ("created_at", .double(s.createdAt)), ("finished_at", s.finishedAt.map { .double($0) } ?? .null),
        ]
        if includeResults {
            // Stored results are our own JSON text; a row that no longer parses is reported, not hidden.
            o.append(("results", .array(s.results.map { r in
                (try? JSONValue(parsing: r.json)) ?? .object([("index", .number(r.index)), ("error", .string("unreadable stored result"))])
            })))
        }
        return .object(o)
    }
}
