import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Rewards

/// One graded response: reward 0 or 1, or nil with `error` when it could not be graded.
public struct GradedResponse: Sendable {
    public var reward: Double?
    public var reason: String
    public var error: String?
}

/// Where rewards come from: the in-process grader over the sandbox, or a remote `assay serve`.
public protocol RewardSource: Sendable {
    /// Grades each response to `problem`; never turns a grading failure into a reward.
    func grade(problem: Problem, responses: [String]) -> [GradedResponse]
}

extension Grader: RewardSource {
    public func grade(problem: Problem, responses: [String]) -> [GradedResponse] {
        responses.map { response in
            let r = grade(problem: problem, response: response)
            return GradedResponse(reward: r.reward.map(Double.init), reason: r.reason, error: r.error)
        }
    }
}

/// A remote `assay serve` (`--grader-url`): one `POST /v1/grade` per group, naming each problem by
/// its id in the data sets the server loaded at start (`assay serve --data DIR` with the run's
/// training and held-out files). An HTTP or transport failure leaves the whole group ungraded.
public struct RemoteGrader: RewardSource, @unchecked Sendable {
    // @unchecked: `options` holds only JSON numbers, fixed at init.
    public let url: URL
    public let token: String?
    /// The batch's `options` (`max_tests`, `time_limit`, `memory_mb`), as the recipe sets them.
    public let options: [String: Any]
    public let timeoutSeconds: Double

    public init(url: URL, token: String? = nil, maxTests: Int = 15, timeLimit: Double? = nil, memoryMiB: Int = 1024,
                timeoutSeconds: Double = 600) {
        self.url = url
        self.token = token
        var options: [String: Any] = ["max_tests": maxTests, "memory_mb": memoryMiB]
        if let timeLimit { options["time_limit"] = timeLimit }
        self.options = options
        self.timeoutSeconds = timeoutSeconds
    }

    public func grade(problem: Problem, responses: [String]) -> [GradedResponse] {
        func failed(_ why: String) -> [GradedResponse] {
            responses.map { _ in GradedResponse(reward: nil, reason: "error", error: why) }
        }
        let items = responses.map { ["problem_id": problem.id, "response": $0] }
        guard let body = try? JSONSerialization.data(withJSONObject: ["items": items, "options": options] as [String: Any]) else { return failed("cannot encode the request") }
        var request = URLRequest(url: url.appendingPathComponent("v1/grade"), timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data, (response as? HTTPURLResponse)?.statusCode, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, status, error) = box.get()
        if let error { return failed("\(url.absoluteString): \(error.localizedDescription)") }
        guard status == 200, let data,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let results = object["results"] as? [[String: Any]], results.count == responses.count else {
            let text = data.map { String(decoding: $0.prefix(500), as: UTF8.self) } ?? ""
            return failed("\(url.absoluteString) answered \(status.map(String.init) ?? "nothing"): \(text)")
        }
        return results.map { r in
            GradedResponse(reward: (r["reward"] as? NSNumber)?.doubleValue, reason: r["reason"] as? String ?? "error",
                           error: r["error"] as? String ?? ((r["reward"] as? NSNumber) == nil ? "no reward" : nil))
        }
    }
}

/// The answer of one request, handed from URLSession's thread.
private final class ResponseBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read after it.
    private var value: (Data?, Int?, (any Error)?) = (nil, nil, nil)
    func set(_ data: Data?, _ status: Int?, _ error: (any Error)?) { value = (data, status, error) }
    func get() -> (Data?, Int?, (any Error)?) { value }
}
