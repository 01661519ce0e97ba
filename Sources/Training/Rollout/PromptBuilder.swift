import Rewards
import TensorEngine

/// Turns a problem into prompt tokens, and knows how a response ends.
public struct PromptBuilder: Sendable {
    public let tokenizer: any TextTokenizer
    public let style: PromptStyle
    /// The token that ends a response (the chat template's `<|im_end|>`, else `<|endoftext|>`).
    public let endOfResponse: Int32

    public init(tokenizer: any TextTokenizer, style: PromptStyle) throws {
        self.tokenizer = tokenizer
        let chat = tokenizer is BPETokenizer && tokenizer.specialTokenID("<|im_start|>") != nil
        self.style = style == .auto ? (chat ? .deepcoder : .plain) : style
        guard let end = tokenizer.specialTokenID(chat ? "<|im_end|>" : "<|endoftext|>") ?? tokenizer.specialTokenID("<|endoftext|>") else {
            throw TrainingError.invalidRecipe("the tokenizer has no end-of-text token (<|im_end|> or <|endoftext|>)")
        }
        endOfResponse = end
    }

    /// DeepCoder's LiveCodeBench prompt (`fetch_live_code_bench_system_prompt`), without the
    /// system message for models that have none.
    static func deepcoderText(_ problem: Problem) -> String {
        let statement = problem.statement ?? ""
        var text = "You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests.\n\nQuestion: \(statement)\n\n"
        if problem.entryPoint != nil, let prefix = problem.solutionPrefix {
            text += "### Format: You will use the following starter code to write the solution to the problem and enclose your code within delimiters.\n```python\n\(prefix)\n```\n\n"
        } else {
            text += "### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n"
        }
        return text + "### Answer: (use the provided format with backticks)\n\n"
    }

    /// The plain prompt for small models without a chat template: the statement, then the opening
    /// of the answer.
    static func plainText(_ problem: Problem) -> String {
        "\(problem.statement ?? "")\n"
    }

    public func tokens(for problem: Problem) -> [Int32] {
        switch style {
        case .deepcoder:
            if let bpe = tokenizer as? BPETokenizer, bpe.specialTokenID("<|im_start|>") != nil {
                return bpe.encodeChat([("user", Self.deepcoderText(problem))])
            }
            return tokenizer.encode(Self.deepcoderText(problem))
        case .plain, .auto:
            return tokenizer.encode(Self.plainText(problem))
        }
    }
}
