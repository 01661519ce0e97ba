import Synchronization

/// Prometheus counters, gauges and histograms, written by hand in the text exposition format
/// (version 0.0.4): a few dozen series do not justify a metrics dependency.
final class Metrics: Sendable {
    struct Histogram {
        static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
        var counts = [Int](repeating: 0, count: bounds.count)
        var sum = 0.0
        var count = 0

        mutating func observe(_ seconds: Double) {
            for (i, b) in Self.bounds.enumerated() where seconds <= b { counts[i] += 1 }
            sum += seconds
            count += 1
        }
    }

    private struct State {
        var requests: [String: Int] = [:]          // "route|status"
        var requestSeconds: [String: Histogram] = [:]
        var runCodeStatus: [String: Int] = [:]
        var runSeconds = Histogram()
        var verdicts: [String: Int] = [:]
        var gradeReasons: [String: Int] = [:]
        var rejected: [String: Int] = [:]
        var jobResults = 0
        var duplicateJobResults = 0
    }
    private let state = Mutex(State())

    /// Routes are labelled by template, never by raw path (bounded cardinality).
    static func route(_ path: String) -> String {
        if path.hasPrefix("/v1/jobs/") { return "/v1/jobs/{id}" }
        let known = ["/healthz", "/metrics", "/run_code", "/v1/ping", "/v1/grade", "/v1/jobs", "/get_reward", "/openapi.json", "/openapi.yaml"]
        return known.contains(path) ? path : "other"
    }

    func recordRequest(path: String, status: Int, seconds: Double) {
        let route = Self.route(path)
        state.withLock { s in
            s.requests["\(route)|\(status)", default: 0] += 1
            s.requestSeconds[route, default: Histogram()].observe(seconds)
        }
    }

    func recordRunCode(status: String, outcome: CodeRunOutcome?) {
        state.withLock { s in
            s.runCodeStatus[status, default: 0] += 1
            if let run = outcome?.run {
                s.verdicts[run.verdict.rawValue, default: 0] += 1
                s.runSeconds.observe(run.wallMilliseconds / 1000)
            } else if outcome?.compileFailed == true {
                s.verdicts["CE", default: 0] += 1
            }
        }
    }

    func recordGrade(reason: String, testVerdicts: [String], testWallMs: [Double]) {
        state.withLock { s in
            s.gradeReasons[reason, default: 0] += 1
            for v in testVerdicts { s.verdicts[v, default: 0] += 1 }
            for ms in testWallMs { s.runSeconds.observe(ms / 1000) }
        }
    }

    func recordRejected(_ reason: String) { state.withLock { $0.rejected[reason, default: 0] += 1 } }

    func recordJobResult(duplicate: Bool) {
        state.withLock { s in if duplicate { s.duplicateJobResults += 1 } else { s.jobResults += 1 } }
    }

    func exposition(queueDepth: Int, inFlight: Int, workers: Int, capacity: Int, jobs: [String: Int]) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func esc(_ v: String) -> String {
            v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        func histogram(_ name: String, _ labels: String, _ h: Histogram) {
            let sep = labels.isEmpty ? "" : labels + ","
            for (i, b) in Histogram.bounds.enumerated() { out += "\(name)_bucket{\(sep)le=\"\(b)\"} \(h.counts[i])\n" }
            out += "\(name)_bucket{\(sep)le=\"+Inf\"} \(h.count)\n"
            out += "\(name)_sum\(labels.isEmpty ? "" : "{\(labels)}") \(h.sum)\n"
            out += "\(name)_count\(labels.isEmpty ? "" : "{\(labels)}") \(h.count)\n"
        }
        header("assay_queue_depth", "gauge", "Sandbox runs waiting for a worker.")
        out += "assay_queue_depth \(queueDepth)\n"
        header("assay_queue_capacity", "gauge", "Most runs requests may queue before 429.")
        out += "assay_queue_capacity \(capacity)\n"
        header("assay_runs_in_flight", "gauge", "Sandbox runs executing now.")
        out += "assay_runs_in_flight \(inFlight)\n"
        header("assay_workers", "gauge", "Worker threads (runs at once).")
        out += "assay_workers \(workers)\n"
        header("assay_jobs", "gauge", "Async jobs in the store by state.")
        for state in ["queued", "running", "done"] { out += "assay_jobs{state=\"\(state)\"} \(jobs[state] ?? 0)\n" }
        header("assay_http_requests_total", "counter", "HTTP requests by route and status.")
        for (key, n) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            out += "assay_http_requests_total{route=\"\(esc(parts[0]))\",status=\"\(parts[1])\"} \(n)\n"
        }
        header("assay_http_request_duration_seconds", "histogram", "HTTP request latency by route.")
        for (route, h) in s.requestSeconds.sorted(by: { $0.key < $1.key }) {
            histogram("assay_http_request_duration_seconds", "route=\"\(esc(route))\"", h)
        }
        header("assay_run_code_total", "counter", "/run_code responses by SandboxFusion status.")
        for (status, n) in s.runCodeStatus.sorted(by: { $0.key < $1.key }) { out += "assay_run_code_total{status=\"\(esc(status))\"} \(n)\n" }
        header("assay_verdicts_total", "counter", "Verdicts of sandbox runs and graded tests (OK, WA, TLE, MLE, OLE, RE, SYS, CE).")
        for (v, n) in s.verdicts.sorted(by: { $0.key < $1.key }) { out += "assay_verdicts_total{verdict=\"\(esc(v))\"} \(n)\n" }
        header("assay_grades_total", "counter", "Graded items by reason.")
        for (r, n) in s.gradeReasons.sorted(by: { $0.key < $1.key }) { out += "assay_grades_total{reason=\"\(esc(r))\"} \(n)\n" }
        header("assay_run_duration_seconds", "histogram", "Wall time of one sandboxed run.")
        histogram("assay_run_duration_seconds", "", s.runSeconds)
        header("assay_rejected_total", "counter", "Work refused or dropped: queue_full (429), deadline (queued past its deadline), shutting_down.")
        for reason in ["queue_full", "deadline", "shutting_down"] { out += "assay_rejected_total{reason=\"\(reason)\"} \(s.rejected[reason] ?? 0)\n" }
        header("assay_job_results_total", "counter", "Async job item results stored.")
        out += "assay_job_results_total \(s.jobResults)\n"
        header("assay_job_results_duplicate_total", "counter", "Job item results refused because one was already stored (must stay 0).")
        out += "assay_job_results_duplicate_total \(s.duplicateJobResults)\n"
        return out
    }
}
