import Foundation
import Testing
@testable import Training

/// The worked example of `shared/reference/trainer-anchors.md` §1 (verl's semantics): one group,
/// rewards [1, 0, 0, 0], lengths [3, 2, 3, 4] (sample 4 truncated), ε 0.2 / 0.28.
enum WorkedExample {
    static let B = 4, T = 4
    static let rewards: [Double] = [1, 0, 0, 0]
    static let truncated = [false, false, false, true]
    static let ratios: [[Double]] = [[1.5, 1.1, 0.9], [0.5, 1.3], [4.0, 0.75, 1.0], [1.2, 1.2, 1.2, 1.2]]
    static var mask: [Float] { ratios.flatMap { r in (0..<T).map { $0 < r.count ? 1 : 0 } } }
    static var logp: [Float] { ratios.flatMap { r in (0..<T).map { $0 < r.count ? Float(log(r[$0])) : 0 } } }
    static let oldLogp = [Float](repeating: 0, count: B * T)
    static func advantages(filtered: Bool = true) -> [Double] {
        let a = GroupAdvantages.compute(rewards: rewards, groups: [0, 0, 0, 0])
        return filtered ? GroupAdvantages.filterOverlong(a, rewards: rewards, truncated: truncated) : a
    }
    static func loss(_ settings: PolicyLossSettings, filtered: Bool = true) -> PolicyLossMetrics {
        PolicyLoss.forwardBackward(logp: logp, oldLogp: oldLogp, advantages: advantages(filtered: filtered), mask: mask,
                                   B: B, T: T, settings: settings).0
    }
}

struct PolicyLossTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 2e-6) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test func advantagesOfTheWorkedExample() {
        let a = WorkedExample.advantages()
        #expect(zip(a, [1.499997, -0.499999, -0.499999, 0]).allSatisfy { close($0, $1) }, "\(a)")
    }

    @Test func oneSampleGroupsAndEqualGroups() {
        // verl: mean 0, std 1, and the ε still added: 1 / (1 + 1e-6).
        #expect(GroupAdvantages.compute(rewards: [1, 0], groups: [0, 1]) == [1 / (1 + 1e-6), 0])
        #expect(GroupAdvantages.compute(rewards: [1, 1, 1], groups: [0, 0, 0]) == [0, 0, 0])
    }

    @Test func overlongFilteringKeepsATruncatedPass() {
        let a = GroupAdvantages.filterOverlong([0.5, -0.5], rewards: [1, 0], truncated: [true, true])
        #expect(a == [0.5, 0])
    }

    @Test func lossesOfTheWorkedExample() {
        let deepcoder = WorkedExample.loss(PolicyLossSettings())
        #expect(close(deepcoder.loss, -0.08083317), "\(deepcoder)")
        let vanilla = WorkedExample.loss(PolicyLossSettings(dualClip: 3))
        #expect(close(vanilla.loss, -0.12249976), "\(vanilla)")
        #expect(close(vanilla.clipFraction, 0.25) && close(vanilla.lowerClipFraction, 1.0 / 12))
        #expect(close(WorkedExample.loss(PolicyLossSettings(dualClip: 3), filtered: false).loss, 0.07749985))
        #expect(close(WorkedExample.loss(PolicyLossSettings(clipHigh: 0.2, dualClip: 3)).loss, -0.11249978))
        #expect(close(WorkedExample.loss(PolicyLossSettings(dualClip: 3, aggregation: .seqMeanTokenSum)).loss, -0.36749927))
        #expect(close(WorkedExample.loss(PolicyLossSettings(dualClip: 3, aggregation: .seqMeanTokenMean)).loss, -0.07874984))
    }

    /// ∂loss/∂logp against central differences of the loss itself, for every aggregation, with
    /// and without the dual clip (away from the kinks of the clip, where the loss is smooth).
    @Test(arguments: LossAggregation.allCases)
    func gradientMatchesFiniteDifferences(_ aggregation: LossAggregation) {
        for dualClip in [nil, 3.0] {
            let settings = PolicyLossSettings(dualClip: dualClip, aggregation: aggregation)
            let a = WorkedExample.advantages()
            let (_, grad) = PolicyLoss.forwardBackward(
                logp: WorkedExample.logp, oldLogp: WorkedExample.oldLogp, advantages: a, mask: WorkedExample.mask,
                B: WorkedExample.B, T: WorkedExample.T, settings: settings)
            for i in 0..<WorkedExample.logp.count where WorkedExample.mask[i] != 0 {
                let h: Float = 1e-3
                func loss(_ shift: Float) -> Double {
                    var logp = WorkedExample.logp
                    logp[i] += shift
                    return PolicyLoss.forwardBackward(logp: logp, oldLogp: WorkedExample.oldLogp, advantages: a,
                                                      mask: WorkedExample.mask, B: WorkedExample.B, T: WorkedExample.T,
                                                      settings: settings).0.loss
                }
                let numeric = (loss(h) - loss(-h)) / Double(2 * h)
                #expect(abs(numeric - Double(grad[i])) < 1e-3, "token \(i) \(aggregation) c=\(String(describing: dualClip)): \(numeric) vs \(grad[i])")
            }
        }
    }
}
