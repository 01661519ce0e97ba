import Foundation
import Rewards
import TensorEngine
import Testing
@testable import Training

/// `assay train`'s loop end to end: a tiny model that writes code, graded in the real sandbox.
@Suite(.serialized, .enabled(if: TrainingFixtures.isRoot, "grading needs the sandbox, which needs root"))
struct TrainingRunTests {
    static let model: URL = { try! TrainingFixtures.tinyModel() }()

    func lines(_ dir: String, _ file: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/" + file, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func aShortPipelinedRunLearnsFromSandboxRewardsAndCheckpoints() throws {
        let dir = TrainingFixtures.temporaryDirectory("run")
        let run = try TrainingRun(recipe: TrainingFixtures.recipe(model: Self.model, pipeline: .oneOff),
                                  directory: RunDirectory(path: dir), grader: try TrainingFixtures.grader(), resume: false)
        try run.run()
        let metrics = try lines(dir, "metrics.jsonl")
        #expect(metrics.map { $0["step"] as! Int } == [-1, 0, 1, 2, 3, 4], "a validation line, one per step, the validation after the last")
        #expect(metrics[0]["heldout_pass_at_1"] != nil && metrics[3]["heldout_pass_at_1"] != nil && metrics[5]["heldout_pass_at_1"] != nil)
        #expect(metrics[5]["heldout_samples"] as? Double == 2)
        let steps = metrics[1...4]
        // One-off: step k learns from samples of version k − 1 (batch 0 from version 0).
        #expect(steps.map { $0["policy_versions"] as! [Int] } == [[0], [0], [1], [2]])
        #expect(steps.map { $0["max_response_tokens"] as! Int } == [40, 40, 48, 48])
        let samples = try lines(dir, "samples.jsonl")
        #expect(samples.count == 4 * 2 * 4)
        // The sandbox really graded: echo's program passes, double's fails on its output.
        #expect(samples.contains { $0["reward"] as? Double == 1 && $0["reason"] as? String == "passed" })
        #expect(samples.contains { $0["reward"] as? Double == 0 && $0["reason"] as? String == "wrong_answer" })
        #expect(FileManager.default.fileExists(atPath: dir + "/checkpoints/step-000003/model.safetensors"))
        #expect(steps.contains { ($0["gradient_norm"] as! Double) > 0 }, "some step had a learning signal")
    }

    /// 2 steps, a checkpoint, a new process's worth of state, 2 more steps: the same weights and
    /// the same rewards as 4 steps at once, on the default (one-off) path and on the synchronous one.
    @Test(arguments: PipelineMode.allCases)
    func resumingEqualsAnUninterruptedRun(_ pipeline: PipelineMode) throws {
        let recipe = TrainingFixtures.recipe(model: Self.model, pipeline: pipeline)
        let whole = TrainingFixtures.temporaryDirectory("whole"), split = TrainingFixtures.temporaryDirectory("split")
        try TrainingRun(recipe: recipe, directory: RunDirectory(path: whole), grader: try TrainingFixtures.grader(),
                        resume: false).run()
        try TrainingRun(recipe: recipe, directory: RunDirectory(path: split), grader: try TrainingFixtures.grader(),
                        resume: false).run(limit: 2)
        try TrainingRun(recipe: recipe, directory: RunDirectory(path: split), grader: try TrainingFixtures.grader(),
                        resume: true).run()
        let a = try Data(contentsOf: URL(fileURLWithPath: whole + "/checkpoints/step-000003/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: split + "/checkpoints/step-000003/model.safetensors"))
        #expect(a == b, "the resumed run's weights differ")
        func rewards(_ dir: String) throws -> [String] {
            try lines(dir, "samples.jsonl").map { "\($0["step"]!) \($0["reward"]!) \($0["response"]!)" }
        }
        #expect(try rewards(whole) == rewards(split))
    }

    @Test func badInputGetsClearErrorsAndNothingIsOverwritten() throws {
        let dir = TrainingFixtures.temporaryDirectory("bad")
        var recipe = TrainingFixtures.recipe(model: Self.model, pipeline: .off, steps: 1)
        recipe.validationEvery = 0
        try TrainingRun(recipe: recipe, directory: RunDirectory(path: dir), grader: try TrainingFixtures.grader(), resume: false).run()
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.jsonl"))
        // The directory already holds a run.
        #expect(throws: TrainingError.self) {
            try TrainingRun(recipe: recipe, directory: RunDirectory(path: dir), grader: try TrainingFixtures.grader(), resume: false)
        }
        // --resume with another configuration.
        var other = recipe
        other.learningRate = 0.5
        #expect(throws: TrainingError.self) {
            try TrainingRun(recipe: other, directory: RunDirectory(path: dir), grader: try TrainingFixtures.grader(), resume: true)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.jsonl")) == before)
        // A problem without tests, a data file that is missing.
        let empty = TrainingFixtures.temporaryDirectory("empty") + ".jsonl"
        try #"{"id": "x", "statement": "s", "tests": []}"#.write(toFile: empty, atomically: true, encoding: .utf8)
        var noTests = recipe
        noTests.data = empty
        #expect(throws: TrainingError.self) {
            try TrainingRun(recipe: noTests, directory: RunDirectory(path: TrainingFixtures.temporaryDirectory("x")),
                            grader: try TrainingFixtures.grader(), resume: false)
        }
        var missing = recipe
        missing.data = "/nonexistent/problems.jsonl"
        #expect(throws: TrainingError.self) {
            try TrainingRun(recipe: missing, directory: RunDirectory(path: TrainingFixtures.temporaryDirectory("y")),
                            grader: try TrainingFixtures.grader(), resume: false)
        }
    }
}

struct RecipeTests {
    func write(_ text: String) throws -> String {
        let path = TrainingFixtures.temporaryDirectory("recipe") + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func unknownKeysAreErrorsThatNameThem() throws {
        let path = try write(#"{"model": "m", "data": "d", "learning_rate": 1e-6}"#)
        #expect { try TrainingRecipe.load(path: path) } throws: { "\($0)".contains("unknown key 'learning_rate'") }
        let loss = try write(#"{"model": "m", "data": "d", "loss": {"clip_high": 0.3}}"#)
        #expect { try TrainingRecipe.load(path: loss) } throws: { "\($0)".contains("loss.clip_high") }
    }

    @Test func shippedRecipesLoadWithDeepCodersSettings() throws {
        let r = try TrainingRecipe.load(path: TrainingFixtures.repositoryRoot + "/recipes/deepcoder-16k.json")
        #expect(r.promptsPerStep == 32 && r.groupSize == 8 && r.learningRate == 1e-6 && r.temperature == 0.6)
        #expect(r.maxResponseTokens(atStep: 0) == 16384 && r.loss.clipHigh == 0.28 && r.loss.dualClip == nil)
        let r32 = try TrainingRecipe.load(path: TrainingFixtures.repositoryRoot + "/recipes/deepcoder-32k.json")
        #expect(r32.promptsPerStep == 128 && r32.maxResponseTokens(atStep: 180) == 32768)
    }

    @Test func aTokenizerThatDoesNotFitTheModelIsRefused() throws {
        var recipe = TrainingRecipe(model: "m", data: "d")
        recipe.tokenizer = "/nonexistent/tokenizer.json"
        #expect(throws: TrainingError.self) { try TrainingRun.tokenizer(recipe, vocabulary: 257) }
        recipe.tokenizer = nil
        recipe.model = "/nonexistent"
        #expect(throws: TrainingError.self) { try TrainingRun.tokenizer(recipe, vocabulary: 100) }
    }
}
