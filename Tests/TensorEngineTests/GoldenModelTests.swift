import Foundation
import Testing

@testable import TensorEngine

/// The engine against PyTorch + transformers on tiny random models (see testdata/golden/README.md).
///
/// The model directories are loaded exactly as transformers saved them, so these tests also prove the config and
/// safetensors readers. Tolerances: logits and log-probs 1e-4 absolute, loss 1e-5, gradients 1e-5 absolute plus 1e-3
/// relative (float32 sums in a different order than PyTorch's; the values are O(0.1)).
@Suite("Golden: Qwen2/Llama vs PyTorch")
struct GoldenModelTests {
    @Test(arguments: ["qwen2-tiny", "llama-tied-tiny"])
    func logitsLossAndEveryGradient(name: String) throws {
        let dir = testdataDirectory.appendingPathComponent("golden/\(name)")
        let model = try Qwen2Model.load(directory: dir)
        let (state, _) = try SafeTensors.read(dir.appendingPathComponent("state.safetensors"))
        let tokensTensor = try #require(state["tokens"])
        let B = tokensTensor.shape[0], T = tokensTensor.shape[1], V = model.config.vocabSize, N = B * T
        let tokens = tokensTensor.values.map { Int32($0) }
        let targets = try #require(state["targets"]).values.map { Int32($0) }
        let mask = try #require(state["mask"]).values

        let logits = model.forward(tokens: tokens, B: B, T: T)  // (B, T, V)
        checkTensor(logits.array, try #require(state["logits"]).values, label: "\(name) logits", atol: 1e-4)

        let logprobs = Tensor(shape: [N]), lse = Tensor(shape: [N])
        logSoftmaxGatherForward(logprobs: logprobs.data, lse: lse.data, logits: logits.data, targets: targets,
                                mask: mask, N: N, V: V)
        checkTensor(logprobs.array, try #require(state["logprobs"]).values, label: "\(name) logprobs", atol: 1e-4)

        let losses = Tensor(shape: [N])
        let loss = crossEntropyForward(losses: losses.data, lse: lse.data, logits: logits.data, targets: targets,
                                       mask: mask, N: N, V: V)
        let expectedLoss = try #require(state["loss"]).values[0]
        #expect(abs(loss - expectedLoss) < 1e-5, "\(name) loss \(loss) vs \(expectedLoss)")

        let dlogits = Tensor(shape: [N, V])
        crossEntropyBackward(dlogits: dlogits.data, dloss: 1, logits: logits.data, lse: lse.data, targets: targets,
                             mask: mask, N: N, V: V)
        model.zeroGradients()
        model.backward(dlogits: dlogits.data)
        var checked = 0
        for entry in model.gradients.entries {
            let expected = try #require(state["grad." + entry.name], "no reference gradient for \(entry.name)")
            #expect(expected.shape == entry.shape)
            checkTensor(model.gradients.values(entry.name), expected.values, label: "\(name) d\(entry.name)",
                        atol: 1e-5, rtol: 1e-3)
            checked += 1
        }
        #expect(checked == model.gradients.entries.count)
        #expect(checked >= 12, "every parameter tensor of a 2-layer model has a gradient checked")
    }

    @Test func saveAndReloadRoundTrips() throws {
        let model = try Qwen2Model.load(directory: testdataDirectory.appendingPathComponent("golden/qwen2-tiny"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("te-roundtrip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(directory: dir)
        let reloaded = try Qwen2Model.load(directory: dir)
        #expect(reloaded.config == model.config)
        #expect(reloaded.parameters.entries == model.parameters.entries)
        for e in model.parameters.entries {
            #expect(reloaded.parameters.values(e.name) == model.parameters.values(e.name), "\(e.name) differs")
        }
    }

    @Test func loadRejectsAShapeMismatch() throws {
        let source = testdataDirectory.appendingPathComponent("golden/qwen2-tiny")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("te-badshape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"),
                                         to: dir.appendingPathComponent("model.safetensors"))
        var config = try Qwen2Config.load(from: source.appendingPathComponent("config.json"))
        config.intermediateSize += 2
        try JSONEncoder().encode(config).write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: EngineError.self) { try Qwen2Model.load(directory: dir) }
    }

    @Test func readsBF16AndF16Tensors() throws {
        // Real Qwen2 checkpoints are BF16: a hand-built file with one BF16 and one F16 tensor must read as float32.
        let header = #"{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for bits: UInt16 in [0x3FC0, 0xC100, 0x3800] {  // bf16 1.5, bf16 -8, f16 0.5
            withUnsafeBytes(of: bits.littleEndian) { data.append(contentsOf: $0) }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("te-bf16-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try data.write(to: url)
        let (tensors, _) = try SafeTensors.read(url)
        #expect(tensors["a"]?.values == [1.5, -8])
        #expect(tensors["b"]?.values == [0.5])
    }

    @Test func halfPrecisionConversion() {
        #expect(SafeTensors.halfToFloat(0x3C00) == 1)
        #expect(SafeTensors.halfToFloat(0xC000) == -2)
        #expect(SafeTensors.halfToFloat(0x7BFF) == 65504)
        #expect(SafeTensors.halfToFloat(0x0001) == Float(5.960464477539063e-8))  // smallest subnormal
        #expect(SafeTensors.halfToFloat(0x7C00) == .infinity)
    }
}
