import Foundation
import Rewards
import TensorEngine
import Testing
@testable import Training

/// `assay demo prepare` and what the repository ships from it.
struct DemoPreparationTests {
    static let shipped = TrainingFixtures.repositoryRoot + "/recipes/demo"

    @Test func prepareWritesTheSetsAndALoadableCheckpoint() throws {
        var preparation = DemoPreparation()
        preparation.trainTasks = 40
        preparation.heldOutTasks = 8
        preparation.steps = 2
        preparation.batchSize = 4
        preparation.config = Qwen2Config(hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 4, numKVHeads: 2,
                                         vocabSize: 1024, maxPositionEmbeddings: 128)
        let dir = URL(fileURLWithPath: TrainingFixtures.temporaryDirectory("demo"))
        var losses: [Float] = []
        try preparation.run(directory: dir, tokenizer: URL(fileURLWithPath: Self.shipped + "/start/tokenizer.json")) { _, loss, _ in
            losses.append(loss)
        }
        #expect(losses.count == 2 && losses.allSatisfy(\.isFinite))
        #expect(try ProblemLoader.load(path: dir.path + "/train.jsonl").problems.count == 40)
        #expect(try ProblemLoader.load(path: dir.path + "/heldout.jsonl").problems.count == 8)
        let model = try Qwen2Model.load(directory: dir.appendingPathComponent("start"))
        #expect(model.config == preparation.config)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/start/tokenizer.json"))
    }

    /// The shipped sets are exactly what the command makes with the default seed, so the README's
    /// figures can be reproduced from scratch.
    @Test func theShippedSetsAreTheCommandsOutput() throws {
        let preparation = DemoPreparation()
        for (file, split, count) in [("train.jsonl", FunctionTasks.Split.train, preparation.trainTasks),
                                     ("heldout.jsonl", .heldOut, preparation.heldOutTasks)] {
            let shipped = try String(contentsOfFile: Self.shipped + "/" + file, encoding: .utf8)
            let made = FunctionTasks.generate(split: split, count: count, seed: preparation.seed).map { NativeWriter.line($0.problem) }
            #expect(shipped == made.joined(separator: "\n") + "\n", "\(file) differs from `assay demo prepare`'s")
        }
    }

    @Test func theDemoRecipesLoadTheShippedCheckpoint() throws {
        for name in ["demo.json", "demo-coin-flip.json"] {
            let recipe = try TrainingRecipe.load(path: TrainingFixtures.repositoryRoot + "/recipes/" + name)
            let model = try Qwen2Model.load(directory: URL(fileURLWithPath: recipe.model))
            let tokenizer = try TrainingRun.tokenizer(recipe, vocabulary: model.config.vocabSize)
            #expect(tokenizer.vocabularySize <= model.config.vocabSize)
            #expect(recipe.coinFlipControl == (name == "demo-coin-flip.json"))
            #expect(recipe.heldOut != nil && recipe.validationSamples >= 8 && recipe.validationTemperature == 0.6)
        }
    }
}
