import Foundation
import Testing
import Rewards
@testable import Curation

@Suite struct TextTests {
    @Test func normalizeLowercasesStripsPunctuationAndCollapsesWhitespace() {
        #expect(Text.normalize("  Return the SUM,\n\tof nums[i]!  ") == "return the sum of nums i")
        #expect(Text.normalize("...") == "")
    }

    @Test func ngramsAreSetsOfConsecutiveWords() {
        let w = Text.words("a b c d e f")
        #expect(Text.ngramHashes(w, n: 5).count == 2)
        #expect(Text.ngramHashes(w, n: 5) == Text.ngramHashes(Text.words("A, b; c d e f"), n: 5))
        #expect(Text.ngramHashes(Text.words("a b"), n: 5).count == 1)  // short text: one gram of all words
        #expect(Text.ngramHashes(w, n: 5) != Text.ngramHashes(Text.words("a b c d e g"), n: 5))
    }

    @Test func jaccard() {
        #expect(Text.jaccard([1, 2, 3, 4], [3, 4, 5, 6]) == 2.0 / 6.0)
        #expect(Text.jaccard([1], [1]) == 1)
        #expect(Text.jaccard([], []) == 0)
    }

    @Test func stableHashIsFixedAcrossProcesses() {
        // Literal values, so a change of the hash (which would invalidate every cache) fails here.
        // Computed outside Swift (Python: 64-bit FNV-1a over the UTF-8 bytes, offset basis
        // 0xcbf29ce484222325, prime 0x100000001b3, then splitmix64's finaliser; the same code
        // gives the published vectors FNV-1a64("a") = 0xaf63dc4c8601ec8c, splitmix64(0) = 0xe220a8397b1dcdaf).
        #expect(StableHash.mix(0) == 0xe220_a839_7b1d_cdaf)
        #expect(StableHash.fnv1a("") == 0xc381_7c01_6ba4_ff30)
        #expect(StableHash.fnv1a("assay") == 0xef41_e490_4662_5c5b)
        #expect(StableHash.fnv1a("héllo wörld") == 0xa25d_1e66_b86b_366d)
        #expect(StableHash.hex128("assay") == "ef41e49046625c5bd757c6658da5cb5d")
        #expect(StableHash.hex128("assay").count == 32)
        #expect(StableHash.hex128("assay") != StableHash.hex128("assaz"))
        #expect(StableHash.hex(StableHash.fnv1a("")) == StableHash.hex(StableHash.mix(0xcbf2_9ce4_8422_2325)))
    }
}

@Suite struct MinHashTests {
    /// n words from a fixed vocabulary, deterministic.
    static func text(_ seed: UInt64, _ n: Int) -> [String] {
        var s = seed
        return (0..<n).map { _ in s = StableHash.mix(s); return "w\(s % 5000)" }
    }

    @Test func estimateTracksExactJaccard() {
        let h = MinHasher()
        let base = Self.text(1, 400)
        for changed in [0, 20, 60, 150] {
            var other = base
            for i in 0..<changed { other[i * 400 / max(changed, 1)] = "x\(i)" }
            let a = Text.ngramHashes(base, n: 5), b = Text.ngramHashes(other, n: 5)
            let exact = Text.jaccard(a, b), est = h.estimate(h.signature(a), h.signature(b))
            #expect(abs(exact - est) < 0.12, "changed \(changed): exact \(exact), estimate \(est)")
        }
    }

    @Test func bandingFindsSimilarPairsAndNotUnrelatedOnes() {
        let h = MinHasher()
        let a = Self.text(7, 300)
        var b = a
        b[150] = "changed"  // Jaccard about 0.97
        let c = Self.text(8, 300)
        var index = LSHIndex()
        index.insert(0, keys: h.bandKeys(h.signature(Text.ngramHashes(a, n: 5))))
        index.insert(2, keys: h.bandKeys(h.signature(Text.ngramHashes(c, n: 5))))
        #expect(index.candidates(h.bandKeys(h.signature(Text.ngramHashes(b, n: 5)))) == [0])
    }

    @Test func mulmodMatchesSlowReduction() {
        let p = MinHasher.prime
        for (x, y) in [(p - 1, p - 1), (123_456_789_012, 987_654_321_098), (1, p - 1), (0, 5)] as [(UInt64, UInt64)] {
            let full = x.multipliedFullWidth(by: y)
            let slow = p.dividingFullWidth((full.high, full.low)).remainder
            #expect(MinHasher.mulmod(x, y) == slow)
        }
    }
}

@Suite struct SplittingTests {
    @Test func checkScriptBecomesOneTestPerAssert() throws {
        let script = """
            METADATA = {'a': 1}


            def check(candidate):
                # simple cases
                x = [1, 2]
                assert candidate(x) == 3
                assert candidate([
                    4, 5]) == 9, "a message with ) and # inside"
                assert True, "debugging marker"
                for i in range(3):
                    assert candidate([i]) == i
                assert candidate('''a
                b''') is None

            """
        let parts = try #require(TestSplitter.split(script, entryPoint: "f", callsCheck: true))
        #expect(parts.count == 4)
        #expect(parts.allSatisfy { $0.hasPrefix("METADATA = {'a': 1}\n\n\ndef check(candidate):\n") && $0.contains("    x = [1, 2]") })
        #expect(parts[1].contains("4, 5]) == 9") && !parts[1].contains("== 3"))
        #expect(parts[2].contains("for i in range(3):") && parts[2].contains("assert candidate([i]) == i"))
        #expect(parts[3].hasSuffix("    b''') is None\n"))
        #expect(!parts.contains { $0.contains("assert True") })
    }

    @Test func topLevelAssertsSplitWithTheirSetup() throws {
        let script = "import math\nassert f(1) == 2\nassert f(2) == 3\nassert math.isclose(f(0.5), 1.5)\n"
        let parts = try #require(TestSplitter.split(script, entryPoint: "f", callsCheck: false))
        #expect(parts == ["import math\nassert f(1) == 2\n", "import math\nassert f(2) == 3\n", "import math\nassert math.isclose(f(0.5), 1.5)\n"])
    }

    @Test func unsplittableScriptsStayWhole() {
        #expect(TestSplitter.split("def check(candidate):\n    assert candidate(1) == 1\n", entryPoint: "f", callsCheck: true) == nil)
        #expect(TestSplitter.split("assert f((1, 2) == 3\nassert f(2) == 3\n", entryPoint: "f", callsCheck: false) == nil)  // unbalanced
        #expect(TestSplitter.split("print(1)\n", entryPoint: nil, callsCheck: false) == nil)
    }
}

@Suite struct FilterTests {
    @Test func duplicateTestsAreRemovedAndCounted() {
        let (tests, n) = Filters.removingDuplicateTests([.stdio("1", "2"), .stdio("1", "2", name: "again"), .stdio("1", "3"), .stdio("1", "2")])
        #expect(n == 2)
        #expect(tests.map(\.kind) == [.stdio(input: "1", output: "2"), .stdio(input: "1", output: "3")])
    }

    @Test func statements() {
        #expect(Filters.statementProblem(nil) == .emptyStatement)
        #expect(Filters.statementProblem(" \n\t") == .emptyStatement)
        #expect(Filters.statementProblem("Sort it.") == .malformedStatement)
        #expect(Filters.statementProblem("Print the sum of two numbers\u{0}\u{0}") == .malformedStatement)
        #expect(Filters.statementProblem("Print the sum of two numbers, one per line.") == nil)
    }
}

@Suite struct NativeWriterTests {
    /// Every fixture of testdata/problems, written and read back, gives the same problems.
    @Test(arguments: ["humaneval-5.jsonl", "mbpp-5.jsonl", "rllm-leetcode-3.json", "leetcodedataset-2.jsonl", "native.jsonl", "taco-fn-1.json"])
    func roundTrip(_ file: String) throws {
        let set = try ProblemLoader.load(path: Shared.repoRoot + "/testdata/problems/" + file)
        let text = set.problems.map(NativeWriter.line).joined(separator: "\n") + "\n"
        let path = Shared.tempPath("roundtrip.jsonl")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let back = try ProblemLoader.load(path: path, format: .native)
        #expect(back.problems.count == set.problems.count)
        for (a, b) in zip(set.problems, back.problems) {
            #expect(NativeWriter.line(a) == NativeWriter.line(b))
            #expect(a.tests == b.tests && a.referenceSolutions == b.referenceSolutions && a.scriptCallsCheck == b.scriptCallsCheck)
            #expect(a.setupCode == b.setupCode && a.entryPoint == b.entryPoint && a.timeLimitSeconds == b.timeLimitSeconds && a.checker == b.checker)
            #expect(!a.referenceSolutions.isEmpty || file == "native.jsonl")
        }
    }
}

@Suite struct DedupTests {
    static func item(_ id: String, _ statement: String, tests: Int = 5, source: Int = 0) -> CurationItem {
        let p = Problem(id: id, source: "native", statement: statement, tests: (0..<tests).map { .stdio("\($0)", "\($0)") })
        return CurationItem(problem: p, sourceIndex: source, sourceName: "s\(source)", originalID: id, words: Text.words(statement))
    }

    static let long = "Given an array of integers nums and an integer target, return indices of the two numbers such that they add up to target. You may assume that each input would have exactly one solution, and you may not use the same element twice. You can return the answer in any order. The array holds at least two and at most ten thousand numbers."

    @Test func rewordedDuplicateIsClusteredUnrelatedIsNot() throws {
        let items = [
            Self.item("two-sum", Self.long, tests: 3, source: 1),
            Self.item("unrelated", "Read a string and print it reversed, one character at a time, keeping spaces where they are."),
            Self.item("two-sum-reworded", Self.long.replacingOccurrences(of: "exactly one solution", with: "precisely one solution"), tests: 6, source: 2),
            Self.item("two-sum-copy", Self.long.uppercased() + "!!", tests: 3, source: 0),
        ]
        let clusters = Deduplicator().clusters(items)
        let c = try #require(clusters.first)
        #expect(clusters.count == 1)
        // Most tests first, then the earlier source.
        #expect(c.members.map { items[$0].originalID } == ["two-sum-reworded", "two-sum-copy", "two-sum"])
        #expect(c.pairs.contains { $0.method == "exact" && $0.jaccard == 1 })
        #expect(c.pairs.contains { $0.method == "near" && $0.jaccard >= 0.8 && $0.jaccard < 1 })
    }

    @Test func belowThresholdIsNotClustered() {
        let half = Text.words(Self.long).prefix(30).joined(separator: " ")
        let items = [Self.item("a", Self.long), Self.item("b", half + " and then something completely different happens to the numbers here")]
        #expect(Deduplicator().clusters(items).isEmpty)
    }
}

@Suite struct DecontaminationTests {
    static let evalStatement = DedupTests.long

    @Test func exactNearAndNgramMatches() throws {
        let evalP = Problem(id: "lcb/1", source: "livecodebench", statement: Self.evalStatement, tests: [.stdio("1", "1")])
        let index = EvalIndex([("eval", evalP)])
        #expect(index.match(words: Text.words(Self.evalStatement.lowercased()))?.method == "exact")
        let near = try #require(index.match(words: Text.words(Self.evalStatement.replacingOccurrences(of: "twice", with: "two times"))))
        #expect(near.method == "near" && near.eval.id == "lcb/1")
        // A copied run of 16 words is four shared 13-grams: contaminated; 15 words (three) is not.
        let quoted = "Count the vowels of a word and print them. Note: " + Text.words(Self.evalStatement).prefix(16).joined(separator: " ") + " Nothing else here matters."
        let m = try #require(index.match(words: Text.words(quoted)))
        #expect(m.method == "ngram" && m.ngram == Text.words(Self.evalStatement).prefix(13).joined(separator: " ") && m.sharedNgrams == 4)
        let fifteen = "Count the vowels of a word and print them. Note: " + Text.words(Self.evalStatement).prefix(15).joined(separator: " ")
        #expect(index.match(words: Text.words(fifteen)) == nil)
        #expect(index.match(words: Text.words("Read a string and print it reversed, one character at a time.")) == nil)
    }

    @Test func boilerplateNgramsAreIgnored() {
        let boiler = "the answer may be very large so return it modulo ten to the power of nine plus seven"
        let evals = (0..<12).map { i in ("eval", Problem(id: "e\(i)", source: "x", statement: "Problem \(i) about topic \(i * 7919) with its own words \(i) \(i + 1). " + boiler, tests: [])) }
        let index = EvalIndex(evals)
        #expect(index.boilerplateNgrams > 0)
        #expect(index.match(words: Text.words("Count paths in a grid of size n by m. " + boiler)) == nil)
        let few = EvalIndex(Array(evals.prefix(3)))
        #expect(few.match(words: Text.words("Count paths in a grid of size n by m. " + boiler))?.method == "ngram")
        // Boilerplate of the training side counts too: the same three eval statements, with the
        // phrase in many training statements, no longer flag an unrelated problem.
        let training = (0..<10).map { i in Text.words("Training problem \(i) on subject \(i * 104729). " + boiler) }
        let withBackground = EvalIndex(Array(evals.prefix(3)), background: training)
        #expect(withBackground.match(words: Text.words("Count paths in a grid of size n by m. " + boiler)) == nil)
        // A phrase copied from one eval statement into one or two training ones still counts.
        let copied = EvalIndex(Array(evals.prefix(3)), background: Array(training.prefix(2)))
        #expect(copied.match(words: Text.words("Count paths in a grid of size n by m. " + boiler))?.method == "ngram")
    }
}

/// The pipeline up to verification needs no sandbox.
@Suite struct PipelineFilterTests {
    @Test func fixtureStepsBeforeVerification() throws {
        let out = try Shared.pipeline().run(verifier: nil, cache: nil)
        let r = out.report
        #expect(r.sources.map(\.loaded) == [4, 7])
        #expect(r.dropped("humaneval-4", .tooFewTests) == 1)            // HumanEval/7: 4 asserts
        #expect(r.dropped("variants", .noReference) == 1)
        #expect(r.dropped("variants", .contaminated) == 2)
        let copy = try #require(r.contaminated.first { $0.item == "variants:planted-eval-copy" })
        #expect(copy.match.method == "exact" && copy.match.eval.source == "eval-lcb-3")
        let ngram = try #require(r.contaminated.first { $0.item == "variants:planted-ngram" })
        #expect(ngram.match.method == "ngram")
        #expect(r.clusters.count == 1)
        #expect(r.clusters.first?.members == ["humaneval-4:HumanEval/0", "variants:reworded-he0"])
        #expect(r.dropped("variants", .duplicate) == 1)
        #expect(r.duplicateTestsRemoved == 1)
        #expect(r.steps.map(\.name) == ["parsed", "statement, reference and test-count filters", "decontamination", "dedup"])
        #expect(r.steps.map(\.remaining) == [11, 9, 7, 6])
    }

    @Test func minTestsIsApplied() throws {
        let r4 = try Shared.pipeline(minTests: 4).run(verifier: nil, cache: nil).report
        #expect(r4.dropped("humaneval-4", .tooFewTests) == 0)
        let r8 = try Shared.pipeline(minTests: 8).run(verifier: nil, cache: nil).report
        #expect(r8.dropped("humaneval-4", .tooFewTests) == 3)  // only HumanEval/25 has 8 asserts
    }
}
