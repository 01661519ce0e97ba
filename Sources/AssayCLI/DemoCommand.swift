import ArgumentParser
import Foundation
import Glibc
import Training

/// `assay demo prepare`: the RL demo's task sets and starting checkpoint.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The RL demo's data and starting checkpoint.",
        subcommands: [Prepare.self])

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prepare",
            abstract: "Generate the demo's task family and train its starting checkpoint from scratch (supervised).",
            discussion: """
                Writes DIR/train.jsonl and DIR/heldout.jsonl (native problems: one-function Python tasks with 5 call \
                tests; held-out tasks combine a filter and a map that training never combines) and DIR/start/ (config.json, \
                model.safetensors, tokenizer.json), a 3.4M-parameter model taught solutions that carry a one-token bug \
                half of the time. recipes/demo.json trains from it.
                """)

        @Option(help: "Output directory.")
        var out: String = "recipes/demo"

        @Option(help: "The tokenizer.json the model uses.")
        var tokenizer: String = "testdata/tokenizer/code-bpe-1k.json"

        @Option(help: "Seed of the task sets and the model.")
        var seed: UInt64 = 1

        @Option(help: "Supervised steps.")
        var steps: Int = DemoPreparation().steps

        @Option(name: .customLong("bug-rate"), help: "Chance that a taught solution's filter (and, separately, its map) is the buggy one.")
        var bugRate: Double = DemoPreparation().bugRate

        func validate() throws {
            if steps < 1 { throw ValidationError("--steps must be at least 1") }
            if !(0...1).contains(bugRate) { throw ValidationError("--bug-rate must be in [0, 1], got \(bugRate)") }
            if !FileManager.default.fileExists(atPath: tokenizer) {
                throw ValidationError("no tokenizer at '\(tokenizer)'; run from the repository root or give --tokenizer")
            }
        }

        func run() throws {
            var preparation = DemoPreparation()
            preparation.seed = seed
            preparation.steps = steps
            preparation.bugRate = bugRate
            let live = isatty(STDERR_FILENO) == 1
            try preparation.run(directory: URL(fileURLWithPath: out), tokenizer: URL(fileURLWithPath: tokenizer)) { step, loss, seconds in
                guard live || (step + 1) % 100 == 0 || step + 1 == steps else { return }
                let line = String(format: "supervised step %d/%d  loss %.3f  %.0f s", step + 1, steps, loss, seconds)
                FileHandle.standardError.write(Data((live ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
            if live { FileHandle.standardError.write(Data("\n".utf8)) }
            print("wrote \(out)/train.jsonl, \(out)/heldout.jsonl and \(out)/start/")
        }
    }
}
