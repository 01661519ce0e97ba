import Foundation
import Testing
import Rewards
import Sandboxing
@testable import Curation

/// The whole pipeline on the fixtures, reference solutions run in the sandbox (root only).
@Suite(.enabled(if: Shared.isRoot, "needs root for the sandbox"), .serialized)
struct CurationSandboxTests {
    @Test func failingReferenceIsDroppedWithTheReason() throws {
        let cache = try VerificationCache(path: Shared.tempPath("cache.jsonl"))
        let out = try Shared.pipeline().run(verifier: Shared.verifier, cache: cache)
        let r = out.report
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(r.dropped("variants", .noPassingReference) == 2)  // wrong-reference, one-bad-test
        #expect(r.failures.contains { $0.item == "variants:wrong-reference" && $0.detail.contains("WA") })
        #expect(out.problems.map(\.id).sorted() == ["HumanEval/0", "HumanEval/25", "HumanEval/3", "dup-tests"])
        let dup = try #require(out.problems.first { $0.id == "dup-tests" })
        #expect(dup.tests.count == 5)
        #expect(r.verified == 6 && r.cacheHits == 0)
        #expect(r.sources.map(\.kept) == [3, 1])
    }

    @Test func repairTestsKeepsTheProblemWithoutTheBadTest() throws {
        let cache = try VerificationCache(path: Shared.tempPath("cache.jsonl"))
        let out = try Shared.pipeline(repair: true).run(verifier: Shared.verifier, cache: cache)
        let fixed = try #require(out.problems.first { $0.id == "one-bad-test" })
        #expect(fixed.tests.count == 5)
        #expect(!fixed.tests.contains { $0.kind == .stdio(input: "10 20\n", output: "30\n") })
        #expect(out.report.testsRepairedAway == 1 && out.report.problemsRepaired == 1)
        // No test of wrong-reference passes: nothing is left to repair, still dropped.
        #expect(!out.problems.contains { $0.id == "wrong-reference" })
        #expect(out.report.dropped("variants", .noPassingReference) == 1)
        // With --min-tests 6 the repaired problem (5 tests) goes after verification.
        let strict = try Shared.pipeline(minTests: 6, repair: true).run(verifier: Shared.verifier, cache: cache)
        #expect(!strict.problems.contains { $0.id == "one-bad-test" })
        #expect(strict.report.steps.last?.name == "min-tests after repair")
    }

    /// A reference whose answer is a coin flip: over 10 runs of 3 tests, all 30 flips come up
    /// right with probability 2^-30, so `runs: 10` fails it; a correct reference still passes.
    @Test func repeatedRunsCatchAReferenceThatPassesByChance() throws {
        let tests = (0..<3).map { TestCase.stdio("\($0)\n", "1\n") }
        let flaky = Problem(id: "coin", source: "test", statement: "Print 1.", tests: tests,
                            referenceSolutions: ["import random\nprint(1 if random.random() < 0.5 else 2)\n"])
        let item = CurationItem(problem: flaky, sourceIndex: 0, sourceName: "t", originalID: "coin", words: ["print", "1"])
        let r = Verifier(executor: Shared.executor!, runs: 10).verify(item)
        #expect(r.status == .failed && r.detail.contains("of 10"), "\(r.status) \(r.detail)")
        var steady = item
        steady.problem.referenceSolutions = ["print(1)\n"]
        #expect(Verifier(executor: Shared.executor!, runs: 3).verify(steady).status == .passed)
    }

    @Test func secondRunVerifiesNothing() throws {
        let path = Shared.tempPath("cache.jsonl")
        let first = try Shared.pipeline().run(verifier: Shared.verifier, cache: try VerificationCache(path: path))
        #expect(first.report.cacheHits == 0 && first.report.verified > 0)
        // A new cache object reads the file: what a second process would see.
        let reopened = try VerificationCache(path: path)
        #expect(reopened.count == first.report.verified)
        let second = try Shared.pipeline().run(verifier: Verifier(executor: FailingExecutor()), cache: reopened)
        #expect(second.report.cacheHits == second.report.verified)
        #expect(second.report.errors.isEmpty)
        #expect(second.problems.map(NativeWriter.line) == first.problems.map(NativeWriter.line))
    }

    @Test func outputCanBeCuratedAgain() throws {
        let first = try Shared.pipeline().run(verifier: Shared.verifier, cache: nil)
        let path = Shared.tempPath("curated.jsonl")
        try Data((first.problems.map(NativeWriter.line).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let again = try CurationPipeline(inputs: [.init(path: path)]).run(verifier: Shared.verifier, cache: nil)
        #expect(again.report.sources.first?.format == "native")
        #expect(again.problems.map(\.id).sorted() == first.problems.map(\.id).sorted())
        #expect(again.report.errors.isEmpty)
    }

    @Test func sandboxErrorIsCountedNotDropped() throws {
        let out = try Shared.pipeline().run(verifier: Verifier(executor: FailingExecutor()), cache: nil)
        #expect(out.problems.isEmpty)
        #expect(out.report.errors.count == 6)
        #expect(out.report.dropped("variants", .noPassingReference) == 0)
        #expect(out.report.dropped("variants", .error) == 3)
    }
}

/// An executor whose sandbox always fails.
struct FailingExecutor: SubmissionExecutor {
    func run(_ submission: Submission, tests: [ExecutableTest], stopAtFirstFailure: Bool,
             judge: (Int, TestExecution) -> Bool) throws(SandboxError) -> [TestExecution] {
        throw SandboxError(.invalidConfiguration, "test: the sandbox is broken")
    }
}
