import Rewards

/// A problem on its way through the pipeline, with where it came from.
public struct CurationItem: Sendable {
    /// The problem with its tests split and duplicate tests removed; its id is the output id.
    public var problem: Problem
    /// Position of its `--in` file (the dedup tie-break).
    public var sourceIndex: Int
    /// The `--in` file's name without directories and extensions (e.g. `HumanEval`).
    public var sourceName: String
    /// The id in its own file.
    public var originalID: String
    /// The tests as loaded, when splitting changed them: verification runs these first (one run
    /// per reference instead of one per test) and only runs the split tests when they fail.
    public var unsplitTests: [TestCase]?
    /// Words of the normalised statement.
    public var words: [String]

    public init(problem: Problem, sourceIndex: Int, sourceName: String, originalID: String, unsplitTests: [TestCase]? = nil, words: [String]) {
        self.problem = problem
        self.sourceIndex = sourceIndex
        self.sourceName = sourceName
        self.originalID = originalID
        self.unsplitTests = unsplitTests
        self.words = words
    }

    /// `source:id`, unique across the inputs.
    public var key: String { sourceName + ":" + originalID }
}

/// Why a problem is not in the output.
public enum DropReason: String, Sendable, CaseIterable, Codable {
    case emptyStatement = "empty_statement"
    case malformedStatement = "malformed_statement"
    case noReference = "no_reference"
    case tooFewTests = "too_few_tests"
    case contaminated
    case duplicate
    case noPassingReference = "no_passing_reference"
    /// The sandbox failed: not a verdict about the problem, so it is neither kept nor dropped
    /// for good (a later run retries it).
    case error
}
