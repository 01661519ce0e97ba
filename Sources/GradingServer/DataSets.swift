import Foundation
import Rewards
import Sandboxing
import Synchronization

/// Problems loaded at start from `--data DIR` (every `.json`, `.jsonl`, `.json.gz`, `.jsonl.gz`,
/// format detected per file), looked up by id.
public struct DataSets: Sendable {
    public private(set) var problems: [String: Problem] = [:]
    public private(set) var files: [String] = []
    public private(set) var warnings: [String] = []

    public init() {}

    public init(problems: [Problem]) {
        for p in problems { self.problems[p.id] = p }
    }

    /// Loads every problem file in `directory`. A broken file or an id found in two files is an
    /// error naming it (a server that silently drops a data set grades against the wrong one).
    public init(directory: String) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw ServerConfigurationError("cannot read the data directory '\(directory)': \(error.localizedDescription)")
        }
        for name in names where [".json", ".jsonl", ".json.gz", ".jsonl.gz"].contains(where: { name.hasSuffix($0) }) {
            let path = directory + "/" + name
            let set: ProblemSet
            do { set = try ProblemLoader.load(path: path) } catch {
                throw ServerConfigurationError("cannot load the data set \(error)")
            }
            for p in set.problems {
                if problems[p.id] != nil {
                    throw ServerConfigurationError("problem id '\(p.id)' appears twice in \(directory) (again in \(name)); ids must be unique across the data sets")
                }
                problems[p.id] = p
            }
            files.append(name)
            warnings += set.warnings
        }
    }

    public func problem(_ id: String) -> Problem? { problems[id] }

    var summary: String {
        problems.isEmpty ? "none loaded; start the server with --data DIR"
            : "\(problems.count) problems from \(files.isEmpty ? "memory" : files.joined(separator: ", "))"
    }
}

/// Grades one item on the calling (pool) thread.
final class GradingEngine: Sendable {
    let executor: any SubmissionExecutor
    /// Data set problems whose call tests needed expected values from their reference
    /// solution: computed once, on first use.
    private let materialized = Mutex<[String: Problem]>([:])

    init(executor: any SubmissionExecutor) { self.executor = executor }

    func grade(_ item: GradeItem, options: GradeOptions) -> (GradeResult, Double) {
        let start = ContinuousClock.now
        let grader = Grader(executor: executor, options: options.grader)
        var problem = item.problem
        if problem.needsExpectedValues {
            if item.fromDataSet, let cached = materialized.withLock({ $0[problem.id] }) {
                problem = cached
            } else {
                do throws(SandboxError) {
                    problem = try grader.materializingExpected(problem)
                    if item.fromDataSet { materialized.withLock { [problem] in $0[problem.id] = problem } }
                } catch {
                    return (.failure("expected values could not be computed with the reference solution: \(error)"), (ContinuousClock.now - start).seconds * 1000)
                }
            }
        }
        let result: GradeResult
        switch item.answer {
        case .response(let text): result = grader.grade(problem: problem, response: text)
        case .code(let code, let language): result = grader.grade(problem: problem, code: code, language: language)
        }
        return (result, (ContinuousClock.now - start).seconds * 1000)
    }
}
