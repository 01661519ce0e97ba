import ArgumentParser
import Foundation
import TensorEngine

#if canImport(Glibc)
import Glibc
#endif

/// `assay bench engine`: training and sampling throughput of the TensorEngine, each beside a baseline measured in
/// the same run (OpenBLAS sgemm peak for training; recomputing the prefix for KV-cached sampling).
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "TensorEngine: forward+backward and sampling tokens/s for two model sizes, against the sgemm peak "
            + "and prefix recomputation measured in the same run.")

    @Option(help: "Timed repetitions per measurement; medians are reported.")
    var repetitions = 5

    @Option(help: "Training batch: sequences per step.")
    var batch = 4

    @Option(help: "Training batch: tokens per sequence.")
    var sequenceLength = 256

    @Option(help: "Sampling: sequences generated at once.")
    var samplingBatch = 8

    @Option(help: "Sampling: new tokens per sequence.")
    var newTokens = 128

    @Flag(help: "Instead of the throughput benchmarks, train a small model from scratch on testdata/corpus and sample from it (a few minutes).")
    var trainDemo = false

    @Option(help: "Steps for --train-demo.")
    var demoSteps = 1000

    @Option(help: "Repository root holding testdata/ (for --train-demo).")
    var root = "."

    func run() throws {
        if trainDemo { return try runTrainDemo() }
        emit("assay bench engine: \(CPUBackend().name), OPENBLAS_NUM_THREADS=\(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default"), medians of \(repetitions)")
        emit("The machine may be shared: the sgemm peak is re-measured between the timed training steps, and each")
        emit("model's efficiency is its step's achieved GFLOP/s over the peak measured alongside it.")
        for config in Self.sizes {
            try benchModel(config: config)
        }
    }

    /// Two sizes with Qwen2's proportions (head dim 64, 2:1 grouped-query attention, MLP ≈ 2.75 C).
    static let sizes: [Qwen2Config] = [
        Qwen2Config(hiddenSize: 256, intermediateSize: 704, numLayers: 4, numHeads: 4, numKVHeads: 2,
                     vocabSize: 4096, ropeTheta: 10_000, maxPositionEmbeddings: 1024),
        Qwen2Config(hiddenSize: 512, intermediateSize: 1408, numLayers: 8, numHeads: 8, numKVHeads: 4,
                     vocabSize: 4096, ropeTheta: 10_000, maxPositionEmbeddings: 1024),
    ]

    // MARK: Baseline: sgemm

    /// Square n=1024 single-precision GEMMs in OpenBLAS with its default threading: the best rate this machine's
    /// BLAS reaches, which the model's matmuls cannot exceed.
    final class SgemmProbe {
        let n = 1024
        let a: Tensor, b: Tensor, c: Tensor
        init() {
            a = Tensor.randomForBench([n, n], seed: 1)
            b = Tensor.randomForBench([n, n], seed: 2)
            c = Tensor(shape: [n, n])
            run()  // warm the threads
        }
        func run() {
            sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a.data, lda: n, b: b.data, ldb: n,
                  beta: 0, c: c.data, ldc: n)
        }
        /// GFLOP/s of one measurement (4 GEMMs).
        func measure() -> Double {
            let seconds = medianSeconds(repetitions: 1) { for _ in 0..<4 { run() } } / 4
            return 2 * Double(n * n * n) / seconds / 1e9
        }
    }

    // MARK: Model throughput

    func benchModel(config: Qwen2Config) throws {
        let model = try Qwen2Model(config: config)
        model.initializeRandom(seed: 1)
        emit(String(format: "\nC=%d L=%d heads %d/%d I=%d V=%d: %.1fM parameters; training batch B=%d T=%d",
                     config.hiddenSize, config.numLayers, config.numHeads, config.numKVHeads,
                     config.intermediateSize, config.vocabSize, Double(model.parameterCount) / 1e6, batch,
                     sequenceLength))
        let probe = SgemmProbe()
        let trainer = Trainer(model: model)
        var rng = SplitMix64(seed: 9)
        let sequences = (0..<batch).map { _ in
            (0...sequenceLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        }
        let data = try TrainingBatch.packing(sequences, padToken: 0)
        trainer.crossEntropyStep(data)  // warm-up: allocates activations
        model.zeroGradients()
        var peaks: [Double] = []
        let step = medianSeconds(repetitions: repetitions) {
            trainer.crossEntropyStep(data)
            model.zeroGradients()
        } between: {
            peaks.append(probe.measure())
        }
        peaks.append(probe.measure())
        let peak = peaks.sorted()[peaks.count / 2]
        let optimizer = medianSeconds(repetitions: repetitions) { trainer.step(learningRate: 0) }
        let tokens = Double(batch * sequenceLength)
        let flops = 3 * config.forwardFLOPs(B: batch, T: sequenceLength)
        let gflops = flops / step / 1e9
        emit(String(format: "  sgemm peak (n=1024, interleaved):         %7.1f GFLOP/s (min %.1f, max %.1f)",
                     peak, peaks.min()!, peaks.max()!))
        emit(String(format: "  forward+backward:   %8.0f tokens/s  %7.1f GFLOP/s = %4.0f%% of sgemm peak  (%.0f ms/step)",
                     tokens / step, gflops, 100 * gflops / peak, step * 1000))
        emit(String(format: "  + clip + AdamW:     %8.0f tokens/s  (optimizer %.1f ms/step)",
                     tokens / (step + optimizer), optimizer * 1000))

        // Sampling: the same prompts, with the KV cache and by recomputing the whole prefix for each token.
        let prompts = (0..<samplingBatch).map { _ in (0..<16).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) } }
        let parameters = SamplingParameters(temperature: 1, maxNewTokens: newTokens, seed: 3)
        let sampler = Sampler(model: model)
        _ = try sampler.generate(prompts: prompts, parameters: parameters)
        let cached = medianSeconds(repetitions: repetitions) {
            _ = try? sampler.generate(prompts: prompts, parameters: parameters)
        }
        let recompute = medianSeconds(repetitions: max(1, min(repetitions, 3))) {
            recomputePrefixGenerate(model: model, prompts: prompts, parameters: parameters)
        }
        let generated = Double(samplingBatch * newTokens)
        emit(String(format: "  sampling, KV cache: %8.0f tokens/s  (batch %d, 16-token prompts, %d new tokens)",
                     generated / cached, samplingBatch, newTokens))
        emit(String(format: "  sampling, recompute:%8.0f tokens/s  → KV cache is %.1f× faster",
                     generated / recompute, recompute / cached))
    }

    /// The baseline the KV cache replaces: every new token runs the model over the whole sequence so far.
    func recomputePrefixGenerate(model: Qwen2Model, prompts: [[Int32]], parameters: SamplingParameters) {
        var sequences = prompts
        let V = model.config.vocabSize
        var rngs = prompts.indices.map { SplitMix64(seed: parameters.seed &+ UInt64($0)) }
        for _ in 0..<parameters.maxNewTokens {
            let T = sequences[0].count  // equal-length prompts stay equal length
            let logits = model.forward(tokens: sequences.flatMap { $0 }, B: sequences.count, T: T)  // (B, T, V)
            for b in sequences.indices {
                let row = logits.data + (b * T + T - 1) * V
                sequences[b].append(sampleFromLogits(row, V: V, rng: &rngs[b]))
            }
        }
    }

    // MARK: From-scratch demo

    func runTrainDemo() throws {
        let rootURL = URL(fileURLWithPath: root)
        let tokenizer = try BPETokenizer(contentsOf: rootURL.appendingPathComponent("testdata/tokenizer/code-bpe-1k.json"))
        func corpus(_ name: String) throws -> [Int32] {
            tokenizer.encode(try String(contentsOf: rootURL.appendingPathComponent("testdata/corpus/" + name), encoding: .utf8))
        }
        // The last 5% of python-code.txt is held out for the validation loss; the extra corpus
        // (CRUXEval functions, LeetCode solutions) is training text only.
        let main = try corpus("python-code.txt"), extra = try corpus("python-code-extra.txt")
        let held = main.count / 20
        let ids = Array(main.dropLast(held)) + extra + Array(main.suffix(held))
        let split = ids.count - held
        let config = Qwen2Config(hiddenSize: 256, intermediateSize: 704, numLayers: 4, numHeads: 4, numKVHeads: 2,
                                 vocabSize: tokenizer.vocabularySize, ropeTheta: 10_000, tieWordEmbeddings: true,
                                 maxPositionEmbeddings: 512)
        let model = try Qwen2Model(config: config)
        model.initializeRandom(seed: 1)
        let trainer = Trainer(model: model, hyperparameters: .init(learningRate: 2e-3, weightDecay: 0.1))
        let T = 128, B = 8
        emit("\ntrain demo: \(ids.count) BPE tokens of code, \(model.parameterCount) parameters, B=\(B) T=\(T), \(demoSteps) steps")
        var rng = SplitMix64(seed: 5)
        func batch(from range: Range<Int>) throws -> TrainingBatch {
            try TrainingBatch.packing((0..<B).map { _ in
                let start = range.lowerBound + Int(rng.next() % UInt64(range.count - T - 1))
                return Array(ids[start...(start + T)])
            }, padToken: 0)
        }
        let validation = try (0..<4).map { _ in try batch(from: split..<ids.count) }
        func validationLoss() -> Float {
            var total: Float = 0
            for v in validation {
                let lp = trainer.logProbs(v)
                total -= lp.reduce(0, +) / Float(v.maskedCount)
            }
            return total / Float(validation.count)
        }
        let start = Date()
        for s in 0..<demoSteps {
            // Linear warm-up for 20 steps, then cosine decay to 10%: the nanoGPT schedule.
            let warm = min(1, Float(s + 1) / 20)
            let progress = Float(s) / Float(max(demoSteps - 1, 1))
            let lr = 2e-3 * warm * (0.1 + 0.45 * (1 + cosf(Float.pi * progress)))
            let loss = trainer.crossEntropyStep(try batch(from: 0..<split))
            let norm = trainer.step(learningRate: lr)
            if s % 25 == 0 || s == demoSteps - 1 {
                let val = s % 100 == 0 || s == demoSteps - 1 ? String(format: "  val %.3f", validationLoss()) : ""
                emit(String(format: "  step %4d  loss %.3f  grad norm %.2f  lr %.2e%@  (%.0f s)",
                             s, loss, norm, lr, val, Date().timeIntervalSince(start)))
            }
        }
        // One function per prompt: generation stops where the next top-level statement would begin.
        let heads = ["def is_palindrome(s):\n", "def count_vowels(s):\n", "def sum_of_squares(n):\n",
                     "def remove_duplicates(lst):\n", "def is_prime(n):\n", "def reverse_words(s):\n",
                     "def max_of_list(nums):\n", "def first_repeated_char(s):\n"]
        let stops = ["\ndef ", "\nclass ", "\n\n\n", "\nprint(", "\nassert "]
        for temperature: Float in [0.5, 0.2] {
            let out = try Sampler(model: model).generate(
                prompts: heads.map { tokenizer.encode($0) },
                parameters: .init(temperature: temperature, topP: 0.95, maxNewTokens: 160,
                                  stopTokens: [tokenizer.specialTokenID("<|endoftext|>") ?? 0], stopStrings: stops, seed: 1),
                decode: { tokenizer.decode($0) })
            let samples = zip(heads, out).map { head, completion in
                var body = tokenizer.decode(completion.tokens).replacingOccurrences(of: "<|endoftext|>", with: "")
                if let cut = stops.compactMap({ body.range(of: $0)?.lowerBound }).min() { body = String(body[..<cut]) }
                return head + body
            }
            let parses = try pythonParses(samples)
            emit("  samples (temperature \(temperature), top-p 0.95; [ok] = parses as Python):")
            for (sample, ok) in zip(samples, parses) {
                emit((ok ? "  [ok] " : "  [--] ") + sample.trimmingCharacters(in: .newlines).replacingOccurrences(of: "\n", with: "\n       "))
            }
            emit("  \(parses.filter { $0 }.count) of \(samples.count) samples parse as Python at temperature \(temperature) (ast.parse; nothing is run)")
        }
        try trainer.saveCheckpoint(directory: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("assay-train-demo"))
        emit("  checkpoint: \(NSTemporaryDirectory())assay-train-demo")
    }
}

// MARK: - Helpers

/// Whether each text parses as Python: `ast.parse` in Debian's interpreter, which only parses
/// (the samples are never executed, so no sandbox is needed).
private func pythonParses(_ texts: [String]) throws -> [Bool] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-I", "-c", "import ast, json, sys\nfor t in json.load(sys.stdin):\n    try:\n        ast.parse(t)\n        print(1)\n    except Exception:\n        print(0)\n"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: texts))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let answers = String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0 == "1" }
    guard process.terminationStatus == 0, answers.count == texts.count else {
        throw ValidationError("could not check the samples with /usr/bin/python3 (exit \(process.terminationStatus))")
    }
    return answers
}

/// Prints a line and flushes, so progress appears as it happens even when stdout is a file or a pipe.
/// (`fflush(nil)` flushes every stream without naming the `stdout` global, which Swift 6 treats as unsafe state.)
private func emit(_ line: String) {
    print(line)
    fflush(nil)
}

private func engineSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The median wall time of `body` over `repetitions` runs (the machine is shared: medians, not means), running
/// the untimed `between` after each one.
private func medianSeconds(repetitions: Int, _ body: () -> Void, between: () -> Void = {}) -> Double {
    var times: [Double] = []
    for _ in 0..<max(1, repetitions) {
        let start = engineSeconds()
        body()
        times.append(engineSeconds() - start)
        between()
    }
    times.sort()
    return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
}

/// Plain temperature-1 sampling for the recompute baseline (same work per token as the sampler's unfiltered path).
private func sampleFromLogits(_ logits: UnsafePointer<Float>, V: Int, rng: inout SplitMix64) -> Int32 {
    var maxLogit = -Float.infinity
    for v in 0..<V { maxLogit = max(maxLogit, logits[v]) }
    var sum: Float = 0
    for v in 0..<V { sum += expf(logits[v] - maxLogit) }
    let u = rng.nextUnitFloat() * sum
    var cumulative: Float = 0
    for v in 0..<V {
        cumulative += expf(logits[v] - maxLogit)
        if u < cumulative { return Int32(v) }
    }
    return Int32(V - 1)
}

extension Tensor {
    fileprivate static func randomForBench(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.nextUnitFloat() - 0.5 })
    }
}
