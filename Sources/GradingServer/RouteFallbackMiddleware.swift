import Hummingbird
import Rewards

/// Answers what no route does, from the API document's own list of paths and methods: a
/// documented path asked with another method gets 405 with `Allow`, any other path a 404 that
/// points at the document, both with the usual JSON error body (the router's bare 404 has none).
struct RouteFallbackMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            let path = request.uri.path
            if let methods = OpenAPIDocument.methods(for: path) {
                throw HTTPError(.methodNotAllowed, headers: [.allow: methods.joined(separator: ", ")],
                                message: "\(request.method.rawValue) is not allowed on \(path); use \(methods.joined(separator: " or "))")
            }
            throw HTTPError(.notFound, message: "no route \(path); the API is described at GET /openapi.json")
        }
    }
}

extension OpenAPIDocument {
    /// Each documented path (split at "/"; `{name}` matches any one non-empty segment) and its methods.
    static let routes: [(segments: [Substring], methods: [String])] = {
        guard let paths = (try? JSONValue(parsing: json))?["paths"]?.objectValue else { return [] }
        return paths.map { path, operations in
            (path.split(separator: "/", omittingEmptySubsequences: false), (operations.objectValue ?? []).map { $0.0.uppercased() })
        }
    }()

    /// The methods documented for `path`, or nil when no documented path matches it. Empty
    /// segments count: `/v1/jobs/` is neither `/v1/jobs` nor a job with an empty id (a 404).
    static func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.first { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") && !$1.isEmpty || $0 == $1 }
        }?.methods
    }
}
