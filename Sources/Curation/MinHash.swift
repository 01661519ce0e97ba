/// MinHash signatures over shingle hashes, and LSH banding to find candidate pairs.
///
/// 128 permutations h_i(x) = (a_i·x + b_i) mod (2^61 − 1) with fixed seeds, so signatures are
/// the same in every run. The share of equal positions of two signatures estimates the Jaccard
/// similarity of the shingle sets. Banding (32 bands of 4 rows) makes a pair a candidate when
/// some band is equal: the chance is 1 − (1 − J^4)^32, which is 0.9999 at J = 0.8 and 0.87 at
/// J = 0.5, so pairs at the 0.8 threshold are practically never missed; false candidates cost
/// only an exact Jaccard computation, which confirms every pair before it counts.
public struct MinHasher: Sendable {
    public let permutations: Int
    public let bands: Int
    public var rows: Int { permutations / bands }
    private let a: [UInt64]
    private let b: [UInt64]
    static let prime: UInt64 = (1 << 61) - 1

    public init(permutations: Int = 128, bands: Int = 32, seed: UInt64 = 42) {
        precondition(permutations % bands == 0, "bands must divide permutations")
        self.permutations = permutations
        self.bands = bands
        var s = seed
        var a: [UInt64] = [], b: [UInt64] = []
        for _ in 0..<permutations {
            s = StableHash.mix(s); a.append(s % (Self.prime - 1) + 1)
            s = StableHash.mix(s); b.append(s % Self.prime)
        }
        self.a = a
        self.b = b
    }

    /// The signature of a shingle set; all `UInt64.max` for an empty set (matches nothing but
    /// other empty sets, which callers never index).
    public func signature(_ shingles: Set<UInt64>) -> [UInt64] {
        var sig = [UInt64](repeating: .max, count: permutations)
        for x in shingles {
            let v = x % Self.prime
            for i in 0..<permutations {
                let h = Self.mulmod(a[i], v) &+ b[i]
                let r = h >= Self.prime ? h - Self.prime : h
                if r < sig[i] { sig[i] = r }
            }
        }
        return sig
    }

    /// The share of equal positions: an estimate of the Jaccard similarity.
    public func estimate(_ x: [UInt64], _ y: [UInt64]) -> Double {
        var eq = 0
        for i in 0..<min(x.count, y.count) where x[i] == y[i] { eq += 1 }
        return Double(eq) / Double(permutations)
    }

    /// One key per band (the band's rows hashed together, tagged with the band number).
    public func bandKeys(_ sig: [UInt64]) -> [UInt64] {
        (0..<bands).map { band in
            var h = StableHash.mix(UInt64(band))
            for i in (band * rows)..<((band + 1) * rows) { h = StableHash.mix(h ^ sig[i]) }
            return h
        }
    }

    /// (a·b) mod 2^61−1 without overflow.
    static func mulmod(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let full = x.multipliedFullWidth(by: y)
        // 2^61 ≡ 1 (mod 2^61−1): the product's bits above bit 61 add to its low 61 bits.
        let lo = full.low & prime, mid = (full.low >> 61) | (full.high << 3)
        var r = lo &+ mid
        while r >= prime { r -= prime }
        return r
    }
}

/// An LSH index: band key → the items that have it.
public struct LSHIndex: Sendable {
    private var buckets: [UInt64: [Int]] = [:]
    public init() {}

    public mutating func insert(_ item: Int, keys: [UInt64]) {
        for k in keys { buckets[k, default: []].append(item) }
    }

    /// Items sharing at least one band with `keys`, ascending, without repeats.
    public func candidates(_ keys: [UInt64]) -> [Int] {
        var out = Set<Int>()
        for k in keys { if let b = buckets[k] { out.formUnion(b) } }
        return out.sorted()
    }
}
