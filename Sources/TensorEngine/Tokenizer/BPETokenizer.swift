import Foundation

// MARK: - Byte-level BPE (Hugging Face tokenizer.json)

/// A byte-level BPE tokenizer read from a Hugging Face `tokenizer.json` (GPT-2, Qwen2, Llama 3 style).
///
/// Encoding: split out added tokens, NFC-normalise (if configured), split with the pre-tokenizer regex, map each
/// piece's UTF-8 bytes to the GPT-2 printable alphabet, then apply merges in rank order. Decoding reverses the byte
/// mapping. Supports the `Split(Regex, Isolated)` + `ByteLevel(use_regex: false)` sequence that Qwen2 uses and a
/// plain `ByteLevel(use_regex: true)` (the GPT-2 pattern).
public final class BPETokenizer: TextTokenizer, @unchecked Sendable {
    /// Qwen2's pre-tokenizer pattern.
    public static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// GPT-2's pre-tokenizer pattern (used by `ByteLevel` with `use_regex: true`).
    public static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    private let vocab: [String: Int32]
    private let idToToken: [Int32: String]
    private let mergeRanks: [String: Int]  // "left right" → rank
    private let added: [String: Int32]
    private let specialIDs: Set<Int32>
    private let splitter: NSRegularExpression
    private let nfc: Bool
    private let addPrefixSpace: Bool
    private let ignoreMerges: Bool
    private let byteEncoder: [Character]  // byte → printable character
    private let byteDecoder: [Character: UInt8]
    private let cache = NSCache<NSString, NSArray>()
    /// The number of ids.
    public let vocabularySize: Int

    /// Loads a `tokenizer.json`.
    /// - Throws: ``EngineError`` if the file is unreadable or uses a model, normalizer or pre-tokenizer this class
    ///   does not implement (so it never silently tokenizes differently from the reference).
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw EngineError.io("cannot read \(url.path): \(error)") }
        try self.init(json: data, source: url.lastPathComponent)
    }

    /// Parses the JSON text of a `tokenizer.json`.
    public init(json data: Data, source: String = "tokenizer.json") throws {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let model = root["model"] as? [String: Any]
        else { throw EngineError.format("\(source) is not a tokenizer.json object") }
        guard (model["type"] as? String) == "BPE", let vocabAny = model["vocab"] as? [String: Any] else {
            throw EngineError.unsupported("\(source): only BPE models are supported")
        }
        var vocab: [String: Int32] = [:]
        for (k, v) in vocabAny { vocab[k] = Int32((v as? NSNumber)?.intValue ?? -1) }
        var ranks: [String: Int] = [:]
        for (rank, m) in (model["merges"] as? [Any] ?? []).enumerated() {
            if let s = m as? String {
                ranks[s] = rank  // older files: "left right"
            } else if let pair = m as? [String], pair.count == 2 {
                ranks[pair[0] + " " + pair[1]] = rank
            }
        }
        var added: [String: Int32] = [:]
        var specials = Set<Int32>()
        for t in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let content = t["content"] as? String, let id = (t["id"] as? NSNumber)?.int32Value else { continue }
            added[content] = id
            if (t["special"] as? Bool) == true { specials.insert(id) }
        }
        // Normalizer: none or NFC (possibly inside a Sequence).
        var nfc = false
        if let norm = root["normalizer"] as? [String: Any] {
            let parts = (norm["type"] as? String) == "Sequence" ? norm["normalizers"] as? [[String: Any]] ?? [] : [norm]
            for p in parts {
                switch p["type"] as? String {
                case "NFC": nfc = true
                case let other: throw EngineError.unsupported("\(source): normalizer \(other ?? "?")")
                }
            }
        }
        // Pre-tokenizer: [Split(regex, Isolated)] + ByteLevel, or ByteLevel with its own regex.
        var pattern: String?
        var prefixSpace = false
        let pre = root["pre_tokenizer"] as? [String: Any] ?? [:]
        let preParts = (pre["type"] as? String) == "Sequence" ? pre["pretokenizers"] as? [[String: Any]] ?? [] : [pre]
        var sawByteLevel = false
        for p in preParts {
            switch p["type"] as? String {
            case "Split":
                guard let pat = (p["pattern"] as? [String: Any])?["Regex"] as? String,
                    (p["behavior"] as? String) == "Isolated", (p["invert"] as? Bool) != true
                else { throw EngineError.unsupported("\(source): only Split(Regex, Isolated) pre-tokenizers") }
                pattern = pat
            case "ByteLevel":
                sawByteLevel = true
                prefixSpace = p["add_prefix_space"] as? Bool ?? false
                if (p["use_regex"] as? Bool) ?? true { pattern = pattern ?? BPETokenizer.gpt2Pattern }
            case let other: throw EngineError.unsupported("\(source): pre-tokenizer \(other ?? "?")")
            }
        }
        guard sawByteLevel else { throw EngineError.unsupported("\(source): not a byte-level BPE (no ByteLevel)") }
        do {
            splitter = try NSRegularExpression(pattern: pattern ?? #"[\s\S]+"#)
        } catch {
            throw EngineError.unsupported("\(source): pre-tokenizer regex does not compile with ICU: \(error)")
        }
        self.vocab = vocab
        self.idToToken = Dictionary(vocab.map { ($0.value, $0.key) } + added.map { ($0.value, $0.key) },
                                    uniquingKeysWith: { a, _ in a })
        self.mergeRanks = ranks
        self.added = added
        self.specialIDs = specials
        self.nfc = nfc
        self.addPrefixSpace = prefixSpace
        self.ignoreMerges = model["ignore_merges"] as? Bool ?? false
        let encoder = BPETokenizer.bytesToUnicode()
        self.byteEncoder = encoder
        self.byteDecoder = Dictionary(uniqueKeysWithValues: encoder.enumerated().map { ($0.element, UInt8($0.offset)) })
        self.vocabularySize = Int((Array(vocab.values) + Array(added.values)).max() ?? -1) + 1
    }

    /// GPT-2's reversible map from bytes to printable characters, so BPE runs on strings without control bytes.
    static func bytesToUnicode() -> [Character] {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var codepoints = printable
        var extra = 0
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b)
            codepoints.append(256 + extra)
            extra += 1
        }
        var table = [Character](repeating: " ", count: 256)
        for (b, c) in zip(printable, codepoints) { table[b] = Character(Unicode.Scalar(UInt32(c))!) }
        return table
    }

    public func specialTokenID(_ content: String) -> Int32? { added[content] }

    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in splitOnSpecialTokens(text, Array(added.keys)) {
            switch piece {
            case .special(let s): ids.append(added[s]!)
            case .text(let t): encodeOrdinary(String(t), into: &ids)
            }
        }
        return ids
    }

    private func encodeOrdinary(_ raw: String, into ids: inout [Int32]) {
        var text = nfc ? raw.precomposedStringWithCanonicalMapping : raw
        if addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
        let ns = text as NSString
        var last = 0
        // Isolated: each match is a piece, and so is any text between matches.
        var pieces: [String] = []
        for m in splitter.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            if m.range.location > last { pieces.append(ns.substring(with: NSRange(location: last, length: m.range.location - last))) }
            if m.range.length > 0 { pieces.append(ns.substring(with: m.range)) }
            last = m.range.location + m.range.length
        }
        if last < ns.length { pieces.append(ns.substring(from: last)) }
        for piece in pieces { ids.append(contentsOf: bpe(piece)) }
    }

    /// Applies merges to one pre-tokenized piece (cached: code repeats the same words constantly).
    private func bpe(_ piece: String) -> [Int32] {
        if let hit = cache.object(forKey: piece as NSString) as? [Int32] { return hit }
        let mapped = String(piece.utf8.map { byteEncoder[Int($0)] })
        var result: [Int32]
        if ignoreMerges, let id = vocab[mapped] {
            result = [id]
        } else {
            var symbols = mapped.map { String($0) }
            while symbols.count > 1 {
                var bestRank = Int.max
                var bestIndex = -1
                for i in 0..<(symbols.count - 1) {
                    if let r = mergeRanks[symbols[i] + " " + symbols[i + 1]], r < bestRank {
                        bestRank = r
                        bestIndex = i
                    }
                }
                if bestIndex < 0 { break }
                // Merge every occurrence of the best pair, left to right, as the reference does.
                let left = symbols[bestIndex], right = symbols[bestIndex + 1]
                var merged: [String] = []
                merged.reserveCapacity(symbols.count)
                var i = 0
                while i < symbols.count {
                    if i < symbols.count - 1 && symbols[i] == left && symbols[i + 1] == right {
                        merged.append(left + right)
                        i += 2
                    } else {
                        merged.append(symbols[i])
                        i += 1
                    }
                }
                symbols = merged
            }
            // Every byte has a token in a byte-level vocabulary, so lookups only fail for a broken file.
            result = symbols.compactMap { vocab[$0] }
        }
        cache.setObject(result as NSArray, forKey: piece as NSString)
        return result
    }

    public func decode(_ ids: [Int32]) -> String {
        var out = ""
        var bytes: [UInt8] = []
        for id in ids {
            guard let token = idToToken[id] else { continue }
            if added[token] != nil {
                out += String(decoding: bytes, as: UTF8.self)
                bytes = []
                out += token
            } else {
                for ch in token { if let b = byteDecoder[ch] { bytes.append(b) } }
            }
        }
        return out + String(decoding: bytes, as: UTF8.self)
    }

    /// Whether an id is a special token (EOS, ChatML markers).
    public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }

    /// Renders chat messages in the ChatML format Qwen2 uses (`<|im_start|>role\n…<|im_end|>\n`), ending with the
    /// opening of the assistant turn, and encodes it.
    /// - Parameter messages: (role, content) pairs such as `("system", …)`, `("user", …)`.
    public func encodeChat(_ messages: [(role: String, content: String)]) -> [Int32] {
        var text = ""
        for m in messages { text += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        return encode(text + "<|im_start|>assistant\n")
    }
}
