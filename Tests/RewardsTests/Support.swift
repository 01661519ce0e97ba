import Foundation
import Glibc
import Sandboxing
import Testing
@testable import Rewards

/// One sandbox for the whole test process (root only).
enum Shared {
    static let isRoot = geteuid() == 0

    static let executor: SandboxExecutor? = {
        guard isRoot else { return nil }
        do {
            let sandbox = try Sandbox()
            let catalog = try ProfileCatalog(directory: repoRoot + "/sandbox-profiles")
            return try SandboxExecutor(sandbox: sandbox, catalog: catalog)
        } catch {
            print("sandbox unavailable: \(error)")
            return nil
        }
    }()

    /// The warm executor users get by default, over the same sandbox as `executor`.
    static let warmExecutor: WarmPythonExecutor? = {
        guard let executor else { return nil }
        return try? WarmPythonExecutor(cold: executor)
    }()

    static func grader(_ kind: ExecutorKind = .cold, maxTests: Int = 15, timeLimit: Double? = nil, memoryMiB: Int = 1024) -> Grader {
        var o = GraderOptions()
        o.maxTests = maxTests
        o.timeLimitSeconds = timeLimit
        o.defaultMemoryLimitMiB = memoryMiB
        switch kind {
        case .cold: return Grader(executor: executor!, options: o)
        case .warm: return Grader(executor: warmExecutor!, options: o)
        }
    }

    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// ../shared/code-data beside the checkout, or $ASSAY_CODE_DATA.
    static let codeData: String? = {
        if let env = ProcessInfo.processInfo.environment["ASSAY_CODE_DATA"], !env.isEmpty { return env }
        for candidate in [repoRoot + "/../shared/code-data", "/work/shared/code-data"] where FileManager.default.fileExists(atPath: candidate + "/SOURCES.md") {
            return candidate
        }
        return nil
    }()

    static var fullSets: Bool { ProcessInfo.processInfo.environment["ASSAY_FULL_SETS"] == "1" }

    static func fixture(_ name: String) -> String { repoRoot + "/testdata/problems/" + name }
}

/// The two ways Python is graded: suites that guard a reward run over both and must give the
/// same verdicts.
enum ExecutorKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case cold, warm
    var testDescription: String { rawValue }
}

/// Runs `body` over `items` on `jobs` threads (the sandbox blocks its thread).
func parallelMap<T: Sendable, R: Sendable>(_ items: [T], jobs: Int = 2, _ body: @Sendable (T) -> R) -> [R] {
    let results = ResultBox<R>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: jobs) { w in
        var i = w
        while i < items.count {
            results.set(i, body(items[i]))
            i += jobs
        }
    }
    return results.values()
}

final class ResultBox<R: Sendable>: @unchecked Sendable {
    private var storage: [R?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: R) { lock.lock(); storage[i] = v; lock.unlock() }
    func values() -> [R] { lock.lock(); defer { lock.unlock() }; return storage.map { $0! } }
}
