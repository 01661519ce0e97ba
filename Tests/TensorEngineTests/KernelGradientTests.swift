import Testing

@testable import TensorEngine

/// Finite-difference checks of every kernel's backward pass against its forward pass.
///
/// Each test sets `L = sum(out * R)` for a fixed random `R`, runs the backward kernel with `dout = R`, and compares
/// every sampled input gradient with central differences (eps 1e-2, |numeric − analytic| ≤ 2e-3 + 2e-2·|numeric|).
@Suite("Kernel gradients")
struct KernelGradientTests {
    @Test func rmsNorm() {
        let N = 3, C = 8
        let inp = Tensor.random([N, C], seed: 1)  // (N, C)
        let weight = Tensor.random([C], seed: 2)  // (C)
        let out = Tensor(shape: [N, C]), rstd = Tensor(shape: [N])
        let r = randomValues(N * C, seed: 3)
        func loss() -> Double {
            rmsNormForward(out: out.data, rstd: rstd.data, inp: inp.data, weight: weight.data, N: N, C: C, eps: 1e-5)
            return weightedSum(out.data, r)
        }
        _ = loss()
        let dinp = Tensor(shape: [N, C]), dweight = Tensor(shape: [C])
        rmsNormBackward(dinp: dinp.data, dweight: dweight.data, dout: r, inp: inp.data, weight: weight.data,
                        rstd: rstd.data, N: N, C: C)
        finiteDifferenceCheck("rmsNorm dinp", x: inp.data, count: N * C, analytic: dinp.array, loss: loss)
        finiteDifferenceCheck("rmsNorm dweight", x: weight.data, count: C, analytic: dweight.array, loss: loss)
    }

    @Test func matmulWithBias() {
        let N = 4, C = 5, OC = 3
        let inp = Tensor.random([N, C], seed: 1), weight = Tensor.random([OC, C], seed: 2)
        let bias = Tensor.random([OC], seed: 3)
        let out = Tensor(shape: [N, OC])
        let r = randomValues(N * OC, seed: 4)
        func loss() -> Double {
            matmulForward(out: out.data, inp: inp.data, weight: weight.data, bias: bias.data, N: N, C: C, OC: OC)
            return weightedSum(out.data, r)
        }
        _ = loss()
        let dinp = Tensor(shape: [N, C]), dweight = Tensor(shape: [OC, C]), dbias = Tensor(shape: [OC])
        matmulBackward(dinp: dinp.data, dweight: dweight.data, dbias: dbias.data, dout: r, inp: inp.data,
                       weight: weight.data, N: N, C: C, OC: OC)
        finiteDifferenceCheck("matmul dinp", x: inp.data, count: N * C, analytic: dinp.array, loss: loss)
        finiteDifferenceCheck("matmul dweight", x: weight.data, count: OC * C, analytic: dweight.array, loss: loss)
        finiteDifferenceCheck("matmul dbias", x: bias.data, count: OC, analytic: dbias.array, loss: loss)
    }

    @Test func matmulBackwardAccumulates() {
        let N = 2, C = 3, OC = 2
        let inp = Tensor.random([N, C], seed: 1), weight = Tensor.random([OC, C], seed: 2)
        let dout = randomValues(N * OC, seed: 3)
        let once = Tensor(shape: [OC, C]), twice = Tensor(shape: [OC, C])
        matmulBackward(dinp: nil, dweight: once.data, dbias: nil, dout: dout, inp: inp.data, weight: weight.data,
                       N: N, C: C, OC: OC)
        for _ in 0..<2 {
            matmulBackward(dinp: nil, dweight: twice.data, dbias: nil, dout: dout, inp: inp.data,
                           weight: weight.data, N: N, C: C, OC: OC)
        }
        checkTensor(twice.array, once.array.map { 2 * $0 }, label: "dweight after two calls", atol: 1e-6, rtol: 1e-6)
    }

    @Test func embedding() {
        let V = 5, C = 3
        let tokens: [Int32] = [1, 4, 1, 0]  // token 1 twice: its row must get both gradients
        let N = tokens.count
        let weight = Tensor.random([V, C], seed: 1)
        let out = Tensor(shape: [N, C])
        let r = randomValues(N * C, seed: 2)
        func loss() -> Double {
            embeddingForward(out: out.data, tokens: tokens, weight: weight.data, N: N, C: C)
            return weightedSum(out.data, r)
        }
        _ = loss()
        let dweight = Tensor(shape: [V, C])
        embeddingBackward(dweight: dweight.data, dout: r, tokens: tokens, N: N, C: C)
        finiteDifferenceCheck("embedding dweight", x: weight.data, count: V * C, analytic: dweight.array, loss: loss)
    }

    @Test func rotary() {
        let N = 3, NH = 2, HD = 6
        let table = RotaryTable(headDim: HD, theta: 100, maxPositions: 16)
        let positions: [Int32] = [0, 5, 11]
        let inp = Tensor.random([N, NH, HD], seed: 1)
        let out = Tensor(shape: [N, NH, HD])
        let r = randomValues(N * NH * HD, seed: 2)
        func loss() -> Double {
            rotaryForward(out: out.data, inp: inp.data, positions: positions, table: table, N: N, NH: NH, HD: HD)
            return weightedSum(out.data, r)
        }
        _ = loss()
        let dinp = Tensor(shape: [N, NH, HD])
        rotaryBackward(dinp: dinp.data, dout: r, positions: positions, table: table, N: N, NH: NH, HD: HD)
        finiteDifferenceCheck("rotary dinp", x: inp.data, count: N * NH * HD, analytic: dinp.array, loss: loss)
        // Position 0 is the identity rotation.
        checkTensor(Array(out.array[0..<(NH * HD)]), Array(inp.array[0..<(NH * HD)]), label: "rotation at 0", atol: 0)
    }

    @Test func causalGroupedQueryAttention() {
        let B = 2, T = 4, NH = 4, NKV = 2, HD = 3
        let q = Tensor.random([B, T, NH, HD], seed: 1), k = Tensor.random([B, T, NKV, HD], seed: 2)
        let v = Tensor.random([B, T, NKV, HD], seed: 3)
        let out = Tensor(shape: [B, T, NH, HD]), att = Tensor(shape: [B, NH, T, T])
        let r = randomValues(B * T * NH * HD, seed: 4)
        func loss() -> Double {
            attentionForward(out: out.data, att: att.data, q: q.data, k: k.data, v: v.data,
                             B: B, T: T, NH: NH, NKV: NKV, HD: HD)
            return weightedSum(out.data, r)
        }
        _ = loss()
        // Causality: nothing above the diagonal, and each row sums to 1.
        for row in 0..<(B * NH * T) {
            let t = row % T
            let p = Array(att.array[(row * T)..<(row * T + T)])
            #expect(p[(t + 1)...].allSatisfy { $0 == 0 })
            #expect(abs(p.reduce(0, +) - 1) < 1e-5)
        }
        let dq = Tensor(shape: q.shape), dk = Tensor(shape: k.shape), dv = Tensor(shape: v.shape)
        let scratch = Tensor(shape: [T, T])
        attentionBackward(dq: dq.data, dk: dk.data, dv: dv.data, scratch: scratch.data, dout: r, q: q.data,
                          k: k.data, v: v.data, att: att.data, B: B, T: T, NH: NH, NKV: NKV, HD: HD)
        finiteDifferenceCheck("attention dq", x: q.data, count: q.count, analytic: dq.array, samples: 32, loss: loss)
        finiteDifferenceCheck("attention dk", x: k.data, count: k.count, analytic: dk.array, samples: 32, loss: loss)
        finiteDifferenceCheck("attention dv", x: v.data, count: v.count, analytic: dv.array, samples: 32, loss: loss)
    }

    @Test func cachedAttentionMatchesFullAttention() {
        // Prefill of 3 rows, then 2 single-row decode steps, against one full causal pass over 5 positions.
        let T = 5, NH = 4, NKV = 2, HD = 4, S = 8
        let q = Tensor.random([T, NH, HD], seed: 1), k = Tensor.random([T, NKV, HD], seed: 2)
        let v = Tensor.random([T, NKV, HD], seed: 3)
        let full = Tensor(shape: [T, NH, HD]), att = Tensor(shape: [1, NH, T, T])
        attentionForward(out: full.data, att: att.data, q: q.data, k: k.data, v: v.data,
                         B: 1, T: T, NH: NH, NKV: NKV, HD: HD)
        let kCache = Tensor(shape: [2, S, NKV, HD]), vCache = Tensor(shape: [2, S, NKV, HD])
        let slot = 1  // a non-zero slot, so the slot offset is exercised
        (kCache.data + slot * S * NKV * HD).update(from: k.data, count: T * NKV * HD)
        (vCache.data + slot * S * NKV * HD).update(from: v.data, count: T * NKV * HD)
        let cached = Tensor(shape: [T, NH, HD]), scratch = Tensor(shape: [S * S])
        let row = NH * HD
        attentionForwardCached(out: cached.data, q: q.data, kCache: kCache.data, vCache: vCache.data,
                               segments: [AttentionSegment(slot: slot, start: 0, count: 3)], S: S, NH: NH, NKV: NKV,
                               HD: HD, scratch: scratch.data)
        for t in 3..<5 {
            attentionForwardCached(out: cached.data + t * row, q: q.data + t * row, kCache: kCache.data,
                                   vCache: vCache.data, segments: [AttentionSegment(slot: slot, start: t, count: 1)],
                                   S: S, NH: NH, NKV: NKV, HD: HD, scratch: scratch.data)
        }
        checkTensor(cached.array, full.array, label: "cached vs full attention", atol: 1e-5)
    }

    @Test func swiglu() {
        let N = 16
        let gate = Tensor.random([N], seed: 1, scale: 3), up = Tensor.random([N], seed: 2)
        let out = Tensor(shape: [N])
        let r = randomValues(N, seed: 3)
        func loss() -> Double {
            swigluForward(out: out.data, gate: gate.data, up: up.data, N: N)
            return weightedSum(out.data, r)
        }
        _ = loss()
        let dgate = Tensor(shape: [N]), dup = Tensor(shape: [N])
        swigluBackward(dgate: dgate.data, dup: dup.data, dout: r, gate: gate.data, up: up.data, N: N)
        finiteDifferenceCheck("swiglu dgate", x: gate.data, count: N, analytic: dgate.array, loss: loss)
        finiteDifferenceCheck("swiglu dup", x: up.data, count: N, analytic: dup.array, loss: loss)
    }

    @Test func logSoftmaxGatherWithMask() {
        let N = 4, V = 7
        let logits = Tensor.random([N, V], seed: 1, scale: 3)
        let targets: [Int32] = [2, 0, 6, 3]
        let mask: [Float] = [1, 1, 0, 1]
        let logprobs = Tensor(shape: [N]), lse = Tensor(shape: [N])
        let r = randomValues(N, seed: 2)
        func loss() -> Double {
            logSoftmaxGatherForward(logprobs: logprobs.data, lse: lse.data, logits: logits.data, targets: targets,
                                    mask: mask, N: N, V: V)
            return weightedSum(logprobs.data, r)
        }
        _ = loss()
        #expect(logprobs[2] == 0, "a masked row has log-probability 0")
        #expect((0..<N).allSatisfy { logprobs[$0] <= 0 })
        let dlogits = Tensor(shape: [N, V])
        logSoftmaxGatherBackward(dlogits: dlogits.data, dlogprobs: r, logits: logits.data, lse: lse.data,
                                 targets: targets, mask: mask, N: N, V: V)
        #expect(dlogits.array[(2 * V)..<(3 * V)].allSatisfy { $0 == 0 }, "a masked row gets no gradient")
        finiteDifferenceCheck("logSoftmaxGather dlogits", x: logits.data, count: N * V, analytic: dlogits.array,
                              samples: 28, loss: loss)
    }

    @Test func crossEntropy() {
        let N = 3, V = 5
        let logits = Tensor.random([N, V], seed: 1, scale: 2)
        let targets: [Int32] = [4, 1, 1]
        let losses = Tensor(shape: [N]), lse = Tensor(shape: [N])
        func loss() -> Double {
            Double(crossEntropyForward(losses: losses.data, lse: lse.data, logits: logits.data, targets: targets,
                                       mask: nil, N: N, V: V))
        }
        // Uniform logits give log(V) exactly.
        let uniform = Tensor(shape: [N, V])
        let l0 = crossEntropyForward(losses: losses.data, lse: lse.data, logits: uniform.data, targets: targets,
                                     mask: nil, N: N, V: V)
        #expect(abs(l0 - logf(Float(V))) < 1e-6)
        _ = loss()
        let dlogits = Tensor(shape: [N, V])
        crossEntropyBackward(dlogits: dlogits.data, dloss: 1, logits: logits.data, lse: lse.data, targets: targets,
                             mask: nil, N: N, V: V)
        finiteDifferenceCheck("crossEntropy dlogits", x: logits.data, count: N * V, analytic: dlogits.array,
                              loss: loss)
    }
}

#if canImport(Glibc)
import Glibc
#endif
