import Foundation
import Rewards
import Testing
@testable import Training

/// A group's responses are graded once per distinct text, and every sample gets its own text's result.
struct RolloutGradingTests {
    /// Records what it is asked to grade; a response passes when it says "pass", fails to grade
    /// when it says "broken".
    final class RecordingSource: RewardSource, @unchecked Sendable {
        // @unchecked: the test calls it from one thread.
        var asked: [[String]] = []
        func grade(problem: Problem, responses: [String]) -> [GradedResponse] {
            asked.append(responses)
            return responses.map {
                $0 == "broken" ? GradedResponse(reward: nil, reason: "", error: "sandbox error")
                    : GradedResponse(reward: $0 == "pass" ? 1 : 0, reason: $0 == "pass" ? "passed" : "wrong_answer", error: nil)
            }
        }
    }

    func group(_ texts: [String]) -> RolloutGroup {
        RolloutGroup(problem: 0, samples: texts.map {
            Rollout(problem: 0, promptTokens: [1], responseTokens: [2], logprobs: [0], truncated: false, policyVersion: 0,
                    text: $0, reward: nil, reason: "")
        })
    }

    @Test func eachDistinctResponseIsGradedOnceAndEverySampleGetsItsOwnResult() {
        let source = RecordingSource()
        let problem = Problem(id: "p", source: "native", tests: [.stdio("", "")])
        let graded = RolloutWorker.grade(group(["fail", "pass", "fail", "pass", "other", "pass"]), problem: problem, grader: source)
        #expect(source.asked == [["fail", "pass", "other"]])
        #expect(graded.samples.map(\.reward) == [0, 1, 0, 1, 0, 1])
        #expect(graded.samples.map(\.reason) == ["wrong_answer", "passed", "wrong_answer", "passed", "wrong_answer", "passed"])
        #expect(graded.gradingError == nil)
    }

    @Test func aResponseThatFailedToGradeFailsItsGroupNeverScoresZero() {
        let graded = RolloutWorker.grade(group(["pass", "broken", "broken"]), problem: Problem(id: "p", source: "native", tests: []),
                                         grader: RecordingSource())
        #expect(graded.samples.map(\.reward) == [1, nil, nil])
        #expect(graded.gradingError == "sandbox error")
    }
}
