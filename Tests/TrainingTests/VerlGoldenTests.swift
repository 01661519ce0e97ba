import Foundation
import Testing
@testable import Training

/// Goldens written by verl 0.9.1's own `core_algos` (`scripts/golden/verl_grpo.py`,
/// `testdata/golden/grpo.json`): advantages within 1e-6 absolute, losses within 1e-5 relative,
/// and the gradient torch's autograd took through verl's loss.
struct VerlGoldenTests {
    struct Case: @unchecked Sendable, CustomTestStringConvertible {
        let name: String, kind: String, inputs: [String: Any], outputs: [String: Any]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let data = try! Data(contentsOf: url.appendingPathComponent("testdata/golden/grpo.json"))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map {
            Case(name: $0["name"] as! String, kind: $0["kind"] as! String,
                 inputs: $0["inputs"] as! [String: Any], outputs: $0["outputs"] as! [String: Any])
        }
    }()

    static func matrix(_ value: Any?) -> [[Double]] { (value as! [[Any]]).map { $0.map { ($0 as! NSNumber).doubleValue } } }
    static func vector(_ value: Any?) -> [Double] { (value as! [Any]).map { ($0 as! NSNumber).doubleValue } }

    func close(_ a: Double, _ b: Double, relative: Double = 1e-5, absolute: Double = 1e-6) -> Bool {
        abs(a - b) <= max(absolute, relative * abs(b))
    }

    @Test(arguments: cases.filter { $0.kind == "advantage" })
    func advantages(_ c: Case) {
        let rewards = Self.vector(c.inputs["rewards"])
        let index = (c.inputs["index"] as! [Any]).map { "\($0)" }
        let ids = Dictionary(uniqueKeysWithValues: Set(index).sorted().enumerated().map { ($1, $0) })
        let normalize = c.inputs["norm_adv_by_std_in_grpo"] as? Bool ?? true
        let a = GroupAdvantages.compute(rewards: rewards, groups: index.map { ids[$0]! }, normalizeByStd: normalize,
                                        epsilon: (c.inputs["epsilon"] as? NSNumber)?.doubleValue ?? 1e-6)
        let expected = Self.vector(c.outputs["sample_advantages"])
        #expect(zip(a, expected).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(a) vs \(expected)")
        if let truncated = c.inputs["truncated"] as? [Bool], let filtered = c.outputs["advantages_overlong_filtered"] {
            let f = GroupAdvantages.filterOverlong(a, rewards: rewards, truncated: truncated)
            // verl's rows are masked: a fully masked (empty) response shows no advantage to compare.
            let mask = Self.matrix(c.inputs["response_mask"])
            let rows = Self.matrix(filtered).map { $0.first { $0 != 0 } ?? 0 }
            for b in rows.indices where mask[b].contains(where: { $0 != 0 }) {
                #expect(abs(f[b] - rows[b]) <= 1e-6, "row \(b): \(f[b]) vs \(rows[b])")
            }
        }
    }

    @Test(arguments: cases.filter { $0.kind == "policy_loss" })
    func policyLoss(_ c: Case) {
        let logp = Self.matrix(c.inputs["log_prob"]), old = Self.matrix(c.inputs["old_log_prob"])
        let mask = Self.matrix(c.inputs["response_mask"]), adv = Self.matrix(c.inputs["advantages"])
        let B = logp.count, T = logp[0].count
        let info = c.inputs["global_batch_info"] as? [String: Any] ?? [:]
        let settings = PolicyLossSettings(
            clipLow: (c.inputs["clip_ratio_low"] as! NSNumber).doubleValue,
            clipHigh: (c.inputs["clip_ratio_high"] as! NSNumber).doubleValue,
            dualClip: c.inputs["dual_clip"] as? Bool == true ? (c.inputs["clip_ratio_c"] as! NSNumber).doubleValue : nil,
            aggregation: LossAggregation(rawValue: c.inputs["loss_agg_mode"] as! String)!,
            aggregationNorm: (info["loss_scale_factor"] as? NSNumber)?.doubleValue)
        // verl broadcasts one advantage per sequence over its tokens.
        let perSequence = (0..<B).map { b in (0..<T).first { mask[b][$0] != 0 }.map { adv[b][$0] } ?? 0 }
        let (m, grad) = PolicyLoss.forwardBackward(
            logp: logp.flatMap { $0.map(Float.init) }, oldLogp: old.flatMap { $0.map(Float.init) }, advantages: perSequence,
            mask: mask.flatMap { $0.map(Float.init) }, B: B, T: T, settings: settings)
        let o = c.outputs
        #expect(close(m.loss, (o["pg_loss"] as! NSNumber).doubleValue), "loss \(m.loss) vs \(o["pg_loss"]!)")
        #expect(close(m.clipFraction, (o["pg_clipfrac"] as! NSNumber).doubleValue))
        #expect(close(m.lowerClipFraction, (o["pg_clipfrac_lower"] as! NSNumber).doubleValue))
        #expect(close(m.ppoKL, (o["ppo_kl"] as! NSNumber).doubleValue, relative: 1e-5, absolute: 1e-5))
        let expectedGrad = Self.matrix(o["grad_log_prob"]).flatMap { $0 }
        for i in 0..<grad.count {
            #expect(close(Double(grad[i]), expectedGrad[i], relative: 1e-4, absolute: 1e-6),
                    "∂loss/∂logp[\(i)] \(grad[i]) vs \(expectedGrad[i])")
        }
    }

    /// `agg_loss` alone, local counts (one process, the whole mini-batch at once, as the learner
    /// calls it). The goldens with verl's distributed counts (`batch_num_tokens`, `dp_size`) are for
    /// a sharded learner, which this one is not.
    @Test(arguments: cases.filter { $0.kind == "agg_loss" && $0.inputs["batch_num_tokens"] is NSNull })
    func aggregation(_ c: Case) {
        let loss = Self.matrix(c.inputs["loss_mat"]), mask = Self.matrix(c.inputs["loss_mask"])
        let B = loss.count, T = loss[0].count
        let settings = PolicyLossSettings(aggregation: LossAggregation(rawValue: c.inputs["loss_agg_mode"] as! String)!,
                                          aggregationNorm: (c.inputs["loss_scale_factor"] as? NSNumber)?.doubleValue)
        let weights = PolicyLoss.aggregationWeights(mask: mask.flatMap { $0.map(Float.init) }, B: B, T: T, settings: settings)
        let total = zip(weights, loss.flatMap { $0 }).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(close(total, (c.outputs["loss"] as! NSNumber).doubleValue), "\(total) vs \(c.outputs["loss"]!)")
    }
}
