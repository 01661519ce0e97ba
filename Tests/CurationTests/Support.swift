import Foundation
import Glibc
import Rewards
import Sandboxing
@testable import Curation

/// One sandbox for the whole test process (root only), as in RewardsTests.
enum Shared {
    static let isRoot = geteuid() == 0

    static let executor: WarmPythonExecutor? = {
        guard isRoot else { return nil }
        do {
            let sandbox = try Sandbox()
            let catalog = try ProfileCatalog(directory: repoRoot + "/sandbox-profiles")
            return try WarmPythonExecutor(sandbox: sandbox, catalog: catalog)
        } catch {
            print("sandbox unavailable: \(error)")
            return nil
        }
    }()

    static var verifier: Verifier { Verifier(executor: executor!) }

    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func fixture(_ name: String) -> String { repoRoot + "/testdata/curation/" + name }

    /// The fixture pipeline: HumanEval rows + hand-made variants, the LiveCodeBench rows as eval set.
    static func pipeline(minTests: Int = 5, repair: Bool = false) -> CurationPipeline {
        var p = CurationPipeline(inputs: [.init(path: fixture("humaneval-4.jsonl")), .init(path: fixture("variants.jsonl"))])
        p.evalSets = [.init(path: fixture("eval-lcb-3.json"))]
        p.minTests = minTests
        p.repairTests = repair
        return p
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("assay-curation-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }
}

extension CurationReport {
    /// Dropped count of `reason` in the source named `source`.
    func dropped(_ source: String, _ reason: DropReason) -> Int {
        sources.first { $0.name == source }?.dropped[reason] ?? 0
    }
}
