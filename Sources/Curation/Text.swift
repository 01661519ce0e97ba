/// Statement normalisation and word n-grams, shared by dedup and decontamination.
public enum Text {
    /// The statement as dedup compares it: lowercase, punctuation and symbols removed (each
    /// becomes a space, so `nums[i]` gives `nums i`), whitespace collapsed to one space.
    public static func normalize(_ s: String) -> String {
        words(s).joined(separator: " ")
    }

    /// The words of the normalised statement: maximal runs of letters and digits.
    public static func words(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in s.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "_" {
                current.append(ch)
            } else if !current.isEmpty {
                out.append(current)
                current = ""
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Hashes of the word n-grams of `words` (a set: repeats count once). A text shorter than
    /// `n` words gives one "n-gram" of all its words, so short statements still compare.
    public static func ngramHashes(_ words: [String], n: Int) -> Set<UInt64> {
        guard !words.isEmpty else { return [] }
        guard words.count >= n else { return [StableHash.fnv1a(words.joined(separator: " "))] }
        var out = Set<UInt64>()
        out.reserveCapacity(words.count - n + 1)
        for i in 0...(words.count - n) {
            out.insert(StableHash.fnv1a(words[i..<(i + n)].joined(separator: " ")))
        }
        return out
    }

    /// |a ∩ b| / |a ∪ b|; 0 for two empty sets.
    public static func jaccard(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double {
        if a.isEmpty && b.isEmpty { return 0 }
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var inter = 0
        for x in small where large.contains(x) { inter += 1 }
        return Double(inter) / Double(a.count + b.count - inter)
    }
}

/// Hashes that are the same in every process (Swift's `Hasher` is seeded per process, and the
/// verification cache and MinHash signatures must survive a restart).
public enum StableHash {
    /// 64-bit FNV-1a over the UTF-8 bytes, with a final avalanche (FNV alone clusters the low
    /// bits of short strings, which MinHash's permutations would inherit).
    public static func fnv1a(_ s: String, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = seed
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return mix(h)
    }

    /// splitmix64's finaliser.
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// 128 bits as 32 hex digits: two independent FNV-1a passes (enough against accidental
    /// collisions of cache keys; not meant to resist a chosen collision).
    public static func hex128(_ s: String) -> String {
        let a = fnv1a(s), b = fnv1a(s, seed: 0x6c62_272e_07bb_0142)
        return hex(a) + hex(b)
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
