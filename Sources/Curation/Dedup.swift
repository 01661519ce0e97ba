/// Duplicate clusters across all inputs.
///
/// Two problems are duplicates when their normalised statements (`Text.normalize`) are equal
/// (`exact`), or when the Jaccard similarity of their word-5-shingle sets is at least
/// `threshold` (default 0.8; `near`). Near pairs are found with MinHash/LSH (`MinHasher`) and
/// every candidate is confirmed by the exact Jaccard of the shingle sets, so the estimate never
/// decides. Clusters are the connected components of these pairs. One problem per cluster is
/// kept, by `Deduplicator.ranks`: most tests, then the earlier `--in` file, then the smaller id.
public struct Deduplicator: Sendable {
    public var shingleSize = 5
    public var threshold = 0.8
    public var hasher = MinHasher()

    public init(shingleSize: Int = 5, threshold: Double = 0.8) {
        self.shingleSize = shingleSize
        self.threshold = threshold
    }

    /// A pair of duplicates.
    public struct Pair: Sendable, Equatable {
        public var a: Int, b: Int
        /// 1 for exact duplicates.
        public var jaccard: Double
        public var method: String  // "exact" or "near"
    }

    /// A cluster of two or more duplicates.
    public struct Cluster: Sendable {
        /// Indices into the input, the kept one first, the rest in rank order.
        public var members: [Int]
        public var pairs: [Pair]
        public var kept: Int { members[0] }
    }

    /// Clusters among `items` (only clusters of two or more are returned).
    public func clusters(_ items: [CurationItem]) -> [Cluster] {
        let n = items.count
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func union(_ x: Int, _ y: Int) { let (rx, ry) = (find(x), find(y)); if rx != ry { parent[max(rx, ry)] = min(rx, ry) } }

        var pairs: [Pair] = []
        var byText: [String: Int] = [:]
        var exactPartner = [Int?](repeating: nil, count: n)
        for (i, it) in items.enumerated() {
            let key = it.words.joined(separator: " ")
            if let j = byText[key] {
                pairs.append(Pair(a: j, b: i, jaccard: 1, method: "exact"))
                union(j, i)
                exactPartner[i] = j
            } else {
                byText[key] = i
            }
        }
        // Near duplicates among the distinct texts only.
        var index = LSHIndex()
        var shingles: [Int: Set<UInt64>] = [:]
        for i in 0..<n where exactPartner[i] == nil {
            let s = Text.ngramHashes(items[i].words, n: shingleSize)
            shingles[i] = s
            let keys = hasher.bandKeys(hasher.signature(s))
            for j in index.candidates(keys) {
                let jac = Text.jaccard(s, shingles[j]!)
                if jac >= threshold {
                    pairs.append(Pair(a: j, b: i, jaccard: jac, method: "near"))
                    union(j, i)
                }
            }
            index.insert(i, keys: keys)
        }
        var groups: [Int: [Int]] = [:]
        for i in 0..<n { groups[find(i), default: []].append(i) }
        var out: [Cluster] = []
        for (_, members) in groups where members.count > 1 {
            let sorted = members.sorted { Self.ranks(items[$0], before: items[$1]) }
            let set = Set(members)
            out.append(Cluster(members: sorted, pairs: pairs.filter { set.contains($0.a) }))
        }
        return out.sorted { $0.kept < $1.kept }
    }

    /// The keep rule: more tests first, then the earlier `--in` file, then the smaller id.
    public static func ranks(_ x: CurationItem, before y: CurationItem) -> Bool {
        if x.problem.tests.count != y.problem.tests.count { return x.problem.tests.count > y.problem.tests.count }
        if x.sourceIndex != y.sourceIndex { return x.sourceIndex < y.sourceIndex }
        return x.originalID < y.originalID
    }
}
