import Foundation
import Testing

@testable import TensorEngine

@Suite("Tokenizers")
struct TokenizerTests {
    static let tokenizerURL = testdataDirectory.appendingPathComponent("tokenizer/code-bpe-1k.json")

    struct ParityCase: Decodable {
        let text: String
        let ids: [Int32]
    }

    @Test func bpeIdsIdenticalToHuggingFaceTokenizers() throws {
        // parity.json: ids from the `tokenizers` library for held-out code (HumanEval-X C++/JS/Go), non-ASCII text,
        // CRLF/tabs/odd whitespace, an empty string and ChatML special tokens. Exact equality, no tolerance.
        let tokenizer = try BPETokenizer(contentsOf: Self.tokenizerURL)
        let cases = try JSONDecoder().decode(
            [ParityCase].self,
            from: Data(contentsOf: testdataDirectory.appendingPathComponent("tokenizer/parity.json")))
        #expect(cases.count >= 15)
        for c in cases {
            let ids = tokenizer.encode(c.text)
            #expect(ids == c.ids, "ids differ for \(c.text.prefix(40).debugDescription)")
        }
    }

    @Test func bpeRoundTripsTheCorpusAndSpecialTokens() throws {
        let tokenizer = try BPETokenizer(contentsOf: Self.tokenizerURL)
        let corpus = try String(contentsOf: testdataDirectory.appendingPathComponent("corpus/python-code.txt"),
                                encoding: .utf8)
        let sample = String(corpus.prefix(20_000))
        let ids = tokenizer.encode(sample)
        #expect(tokenizer.decode(ids) == sample)
        #expect(ids.count < sample.utf8.count / 2, "a trained BPE compresses code at least 2×, got \(ids.count) tokens")
        let end = try #require(tokenizer.specialTokenID("<|im_end|>"))
        #expect(tokenizer.isSpecial(end))
        let chat = tokenizer.encodeChat([("user", "hi")])
        #expect(chat.first == tokenizer.specialTokenID("<|im_start|>"))
        #expect(chat.filter { $0 == end }.count == 1)
        #expect(tokenizer.decode(chat) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func bpeRejectsWhatItCannotReproduce() {
        let json = #"{"model": {"type": "WordPiece", "vocab": {}}}"#
        #expect(throws: EngineError.self) { try BPETokenizer(json: Data(json.utf8)) }
    }

    @Test func byteTokenizerRoundTrips() {
        let t = ByteTokenizer(specialTokens: ["<|endoftext|>", "<|im_end|>"])
        let text = "naïve 🚀<|im_end|>x<|endoftext|>"
        let ids = t.encode(text)
        #expect(ids.contains(257) && ids.last == 256)
        #expect(t.decode(ids) == text)
        #expect(t.vocabularySize == 258)
    }
}
