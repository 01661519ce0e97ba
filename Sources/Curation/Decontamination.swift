import Rewards

/// Checks training problems against evaluation sets.
///
/// A problem is contaminated when its statement matches some eval statement by any of:
/// - `exact`: equal normalised statements;
/// - `near`: word-5-shingle Jaccard ≥ `threshold` (0.8), MinHash/LSH candidates confirmed
///   exactly, as in `Deduplicator`;
/// - `ngram`: a shared word `ngramSize`-gram (13, as GPT-3 and OLMo decontaminate), except
///   n-grams found in more than `maxNgramDocuments` (default 10) statements, eval and training
///   sides counted together: those are boilerplate ("you are given a 0 indexed array of
///   integers nums of length n", "return the answer modulo 10^9 + 7" and the like, shared by
///   many different problems), not a sign of a copied problem. A match needs
///   `minSharedNgrams` (default 4) distinct shared n-grams with one eval statement, a copied
///   run of 16 words or several shorter ones: on the real sets, pairs that share one to three
///   13-grams are almost all different problems with a common stock phrase (word-shingle
///   Jaccard below 0.1), while true copies share dozens.
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
        /// How many distinct n-grams the two statements share (method ngram).
        public var sharedNgrams: Int = 0
    }

    public var ngramSize: Int
    public var threshold: Double
    public var maxNgramDocuments: Int
    public var minSharedNgrams: Int
    public let entries: [Entry]
    let hasher = MinHasher()
    var exact: [String: Int] = [:]
    var shingles: [Set<UInt64>] = []
    var lsh = LSHIndex()
    var ngrams: [UInt64: [Int]] = [:]  // n-gram → the eval entries holding it
    public private(set) var boilerplateNgrams = 0

    /// - Parameter background: the training side's statements (as words); they only count
    ///   towards an n-gram's document frequency. Without them, phrases that are boilerplate on
    ///   the training side but rare among eval statements flag unrelated problems.
    public init(_ problems: [(source: String, problem: Problem)], ngramSize: Int = 13, threshold: Double = 0.8, maxNgramDocuments: Int = 10,
                minSharedNgrams: Int = 4, background: [[String]] = []) {
        self.ngramSize = ngramSize
        self.minSharedNgrams = max(1, minSharedNgrams)
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
                    ngrams[g, default: []].append(i)
                }
            }
        }
        for words in background where words.count >= ngramSize {
            for g in Text.ngramHashes(words, n: ngramSize) where docFrequency[g] != nil {
                docFrequency[g, default: 0] += 1
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
        var shared: [Int: (count: Int, first: String)] = [:]
        var seen = Set<UInt64>()
        for i in 0...(words.count - ngramSize) {
            let text = words[i..<(i + ngramSize)].joined(separator: " ")
            let g = StableHash.fnv1a(text)
            guard let holders = ngrams[g], seen.insert(g).inserted else { continue }
            for j in holders { shared[j] = ((shared[j]?.count ?? 0) + 1, shared[j]?.first ?? text) }
        }
        guard let (j, hit) = shared.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }), hit.count >= minSharedNgrams else { return nil }
        return Match(eval: entries[j], method: "ngram", jaccard: Text.jaccard(s, shingles[j]), ngram: hit.first, sharedNgrams: hit.count)
    }
}
