import Foundation
import Hummingbird
import Rewards

/// `GET /healthz`, `GET /metrics` (Prometheus text) and `GET /openapi.json`.
struct OpsController {
    let services: ServerServices

    func addRoutes(to router: Router<BasicRequestContext>) {
        // Queue depth and runs in flight count both pools: the workers' and /run_code's.
        router.get("/healthz") { _, _ in
            jsonResponse(.object([
                ("status", .string("ok")), ("workers", .number(services.pool.threads)),
                ("queue_depth", .number(services.pool.queueDepth + services.runCodePool.queueDepth)),
                ("in_flight", .number(services.pool.inFlight + services.runCodePool.inFlight)),
            ]))
        }
        router.get("/metrics") { _, _ in
            let jobs = (try? await services.jobs.counts()) ?? [:]
            let text = services.metrics.exposition(queueDepth: services.pool.queueDepth + services.runCodePool.queueDepth,
                                                   inFlight: services.pool.inFlight + services.runCodePool.inFlight,
                                                   workers: services.pool.threads, capacity: services.pool.capacity, jobs: jobs)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let document = OpenAPIDocument.served(bearerRequired: services.configuration.token != nil)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}

/// Bearer-token check on every route but `/healthz` (load balancers probe it without secrets).
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let given = request.headers[.authorization].flatMap { h -> [UInt8]? in
            h.hasPrefix("Bearer ") ? Array(h.dropFirst(7).utf8) : nil
        }
        guard let given, Self.constantTimeEqual(given, token) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                            message: "missing or wrong bearer token; send 'Authorization: Bearer <token from --token-file>'")
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// Counts requests by route and status, and their latency.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: Metrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.recordRequest(path: request.uri.path, status: response.status.code, seconds: (ContinuousClock.now - start).seconds)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(path: request.uri.path, status: status, seconds: (ContinuousClock.now - start).seconds)
            throw error
        }
    }
}
