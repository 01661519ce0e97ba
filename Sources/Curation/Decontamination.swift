import Rewards

/// Checks training problems against evaluation sets.
///
/// A problem is contaminated when its statement matches some eval statement by any of:
/// - `exact`: equal normalised statements;
/// - `near`: word-5-shingle Jaccard ≥ `threshold` (0.8), MinHash/LSH candidates confirmed
///   exactly, as in `Deduplicator`;
/// - `ngram`: a shared word `ngramSize`-gram (13, as GPT-3 and OLMo decontaminate), except
///   n-grams found in more than `maxNgramDocuments` (default 10) eval statements: those are
///   boilerplate ("1 <= nums.length <= 10^5", "return the answer modulo 10^9 + 7" and the like
///   shared by many problems), not a sign of a copied problem.
public struct EvalIndex: Sendable {
    /// An eval problem.
    public struct Entry: Sendable {
        public var source: String
        public var id: String
    }

    /// Why a problem counts as contaminated.
    public struct Match: Sendable {
        public var eval: Entry
        public var method: String  // exact, near, ngram
        public var jaccard: Double
        /// The first shared n-gram (method ngram), as words.
        public var ngram: String?
    }

    public var ngramSize: Int
    public var threshold: Double
    public var maxNgramDocuments: Int
    public let entries: [Entry]
    let hasher = MinHasher()
    var exact: [String: Int] = [:]
    var shingles: [Set<UInt64>] = []
    var lsh = LSHIndex()
    var ngrams: [UInt64: Int] = [:]  // n-gram → the first eval entry holding it
    public private(set) var boilerplateNgrams = 0

    public init(_ problems: [(source: String, problem: Problem)], ngramSize: Int = 13, threshold: Double = 0.8, maxNgramDocuments: Int = 10) {
        self.ngramSize = ngramSize
        self.threshold = threshold
        self.maxNgramDocuments = maxNgramDocuments
        entries = problems.map { Entry(source: $0.source, id: $0.problem.id) }
        var docFrequency: [UInt64: Int] = [:]
        for (i, e) in problems.enumerated() {
            let words = Text.words(e.problem.statement ?? "")
            guard !words.isEmpty else { shingles.append([]); continue }
            let key = words.joined(separator: " ")
            if exact[key] == nil { exact[key] = i }
            let s = Text.ngramHashes(words, n: 5)
            shingles.append(s)
            lsh.insert(i, keys: hasher.bandKeys(hasher.signature(s)))
            if words.count >= ngramSize {
                for g in Text.ngramHashes(words, n: ngramSize) {
                    docFrequency[g, default: 0] += 1
                    if ngrams[g] == nil { ngrams[g] = i }
                }
            }
        }
        for (g, f) in docFrequency where f > maxNgramDocuments {
            ngrams.removeValue(forKey: g)
            boilerplateNgrams += 1
        }
    }

    /// The strongest match of a statement (exact, then near, then n-gram), or nil.
    public func match(words: [String]) -> Match? {
        guard !words.isEmpty else { return nil }
        if let i = exact[words.joined(separator: " ")] { return Match(eval: entries[i], method: "exact", jaccard: 1, ngram: nil) }
        let s = Text.ngramHashes(words, n: 5)
        var best: (Int, Double)?
        for j in lsh.candidates(hasher.bandKeys(hasher.signature(s))) {
            let jac = Text.jaccard(s, shingles[j])
            if jac >= threshold, jac > (best?.1 ?? 0) { best = (j, jac) }
        }
        if let (j, jac) = best { return Match(eval: entries[j], method: "near", jaccard: jac, ngram: nil) }
        guard words.count >= ngramSize else { return nil }
        for i in 0...(words.count - ngramSize) {
            let text = words[i..<(i + ngramSize)].joined(separator: " ")
            if let j = ngrams[StableHash.fnv1a(text)] {
                return Match(eval: entries[j], method: "ngram", jaccard: Text.jaccard(s, shingles[j]), ngram: text)
            }
        }
        return nil
    }
}
