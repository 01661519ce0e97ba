import ArgumentParser
import Foundation
import Training

/// `assay bench train`: seconds per step of a recipe with `--pipeline off` (the baseline) and
/// `one-off`, measured in one run, with where each step's time went.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Seconds per RL step with --pipeline off (baseline) and one-off in one run: time split, speed-up, ideal bound.",
        discussion: """
            Runs --steps steps of the recipe twice from its starting model, in fresh temporary run directories, with \
            no validation; the first step of each is left out of the medians (one-off's first step samples before it \
            can learn). The ideal bound is what perfect overlap would give: (sample + grade + learn) over \
            max(sample + grade, learn), from the baseline's own medians.
            """)

    @Option(help: "Recipe file (JSON).")
    var recipe = "recipes/demo.json"

    @Option(help: "Steps per mode.")
    var steps = 6

    @OptionGroup var sandboxOptions: SandboxOptions

    func validate() throws {
        if steps < 2 { throw ValidationError("--steps must be at least 2 (the first step of each mode is not counted)") }
    }

    /// Medians over the counted steps of one mode.
    struct Split {
        var seconds = 0.0, sample = 0.0, grade = 0.0, learn = 0.0, wait = 0.0
    }

    func run() throws {
        var base = try TrainingRecipe.load(path: recipe)
        base.steps = steps
        base.validationEvery = 0
        base.checkpointEvery = 0
        print("bench train: \(recipe), \(base.promptsPerStep) prompts x \(base.groupSize) samples, \(steps) steps per mode (first not counted), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var results: [PipelineMode: Split] = [:]
        for mode in [PipelineMode.off, .oneOff] {
            var r = base
            r.pipeline = mode
            results[mode] = try measure(r)
            let s = results[mode]!
            print(String(format: "%-8@ %6.2f s/step   sample %6.2f  grade %5.2f  learn %6.2f  learner waits %5.2f  (medians, s)",
                         mode.rawValue as NSString, s.seconds, s.sample, s.grade, s.learn, s.wait))
        }
        let off = results[.off]!, oneOff = results[.oneOff]!
        let ideal = (off.sample + off.grade + off.learn) / max(off.sample + off.grade, off.learn)
        print(String(format: "one-off speed-up over off: %.2fx (ideal bound from off's split: %.2fx)", off.seconds / oneOff.seconds, ideal))
        print(String(format: "one-off learner waits for the next batch %.0f%% of its step time", 100 * oneOff.wait / max(oneOff.seconds, 1e-9)))
    }

    func measure(_ recipe: TrainingRecipe) throws -> Split {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-bench-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let grader = try TrainCommand.grader(for: recipe, url: nil, tokenFile: nil, sandboxOptions: sandboxOptions)
        let run = try TrainingRun(recipe: recipe, directory: RunDirectory(path: directory.path), grader: grader, resume: false)
        var lines: [[String: Double]] = []
        run.report = { r in
            lines.append(r.metrics)
            FileHandle.standardError.write(Data(String(format: "  %@ step %d/%d  %.2f s\n", recipe.pipeline.rawValue as NSString,
                                                       r.step + 1, r.steps, r.secondsPerStep).utf8))
        }
        try run.run()
        let counted = lines.dropFirst()
        func median(_ key: String) -> Double {
            var samples = Samples()
            for line in counted { if let v = line[key] { samples.add(v) } }
            return samples.median
        }
        return Split(seconds: median("seconds"), sample: median("sample_seconds"), grade: median("grade_seconds"),
                     learn: median("learn_seconds"), wait: median("wait_seconds"))
    }
}
