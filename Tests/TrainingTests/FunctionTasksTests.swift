import Foundation
import Rewards
import Testing
@testable import Training

/// The demo's task family: reproducible, split by composition, and graded for real.
struct FunctionTasksTests {
    @Test func theSameSeedGivesTheSameTasksAndAnotherSeedOthers() {
        let a = FunctionTasks.generate(split: .train, count: 50, seed: 3).map { NativeWriter.line($0.problem) }
        let b = FunctionTasks.generate(split: .train, count: 50, seed: 3).map { NativeWriter.line($0.problem) }
        let c = FunctionTasks.generate(split: .train, count: 50, seed: 4).map { NativeWriter.line($0.problem) }
        #expect(a == b)
        #expect(a != c)
    }

    @Test func heldOutCombinesWhatTrainingNeverCombines() {
        let train = FunctionTasks.generate(split: .train, count: 2000, seed: 1)
        let heldOut = FunctionTasks.generate(split: .heldOut, count: 256, seed: 1)
        let trainPairs = Set(train.map { "\($0.filter)+\($0.map)" })
        let heldOutPairs = Set(heldOut.map { "\($0.filter)+\($0.map)" })
        #expect(trainPairs.isDisjoint(with: heldOutPairs))
        #expect(heldOutPairs.count == 12 && trainPairs.count == 44)
        // Every part of a held-out task is taught, only not in that combination.
        #expect(Set(heldOut.map(\.filter)).isSubset(of: Set(train.map(\.filter))))
        #expect(Set(heldOut.map(\.map)).isSubset(of: Set(train.map(\.map))))
        #expect(Set(heldOut.compactMap(\.problem.statement)).count == 256, "256 distinct held-out statements")
        #expect(Set(train.compactMap(\.problem.statement)).isDisjoint(with: heldOut.compactMap(\.problem.statement)))
        #expect(heldOut.allSatisfy { $0.problem.tests.count == 5 && $0.problem.statement!.hasPrefix("Write f(xs): return ") })
    }

    /// In the real sandbox: each task's solution passes and each of its buggy variants fails, so a
    /// model that writes the bug gets reward 0 (40 tasks: random tests miss a boundary bug often enough
    /// that some would pass without the generator's check).
    @Test(.enabled(if: TrainingFixtures.isRoot, "grading needs the sandbox, which needs root"))
    func solutionsPassAndEveryBugFailsInTheSandbox() throws {
        let grader = try TrainingFixtures.grader()
        let tasks = FunctionTasks.generate(split: .train, count: 36, seed: 9) + FunctionTasks.generate(split: .heldOut, count: 4, seed: 9)
        for task in tasks {
            #expect(grader.grade(problem: task.problem, response: task.answer()).reward == 1, "\(task.problem.statement!)")
            var bugs = [(true, false)]
            if task.mapHasBug { bugs += [(false, true), (true, true)] }
            for (f, m) in bugs {
                let result = grader.grade(problem: task.problem, response: task.answer(buggyFilter: f, buggyMap: m))
                #expect(result.reward == 0 && result.error == nil, "\(task.answer(buggyFilter: f, buggyMap: m)) got \(result.reason)")
            }
        }
    }
}
