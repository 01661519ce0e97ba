// MARK: - Tokenizer interface

/// Turns text into token ids and back.
public protocol TextTokenizer: Sendable {
    /// The number of ids (the model's `vocab_size` must be at least this).
    var vocabularySize: Int { get }
    /// Encodes text, mapping special-token strings such as `<|im_end|>` that appear in it to their ids.
    func encode(_ text: String) -> [Int32]
    /// Decodes ids back to text; bytes that do not form valid UTF-8 become U+FFFD.
    func decode(_ ids: [Int32]) -> String
    /// The id of a special token by its text, or nil.
    func specialTokenID(_ content: String) -> Int32?
}

/// A tokenizer for tiny models: one id per byte (0–255), then the special tokens from 256 on.
public struct ByteTokenizer: TextTokenizer {
    /// Special tokens; token `i` has id `256 + i`.
    public let specialTokens: [String]

    /// Creates a byte tokenizer with the given special tokens (default: `<|endoftext|>` as id 256).
    public init(specialTokens: [String] = ["<|endoftext|>"]) { self.specialTokens = specialTokens }

    public var vocabularySize: Int { 256 + specialTokens.count }

    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in splitOnSpecialTokens(text, specialTokens) {
            switch piece {
            case .special(let s): ids.append(Int32(256 + specialTokens.firstIndex(of: s)!))
            case .text(let t): ids.append(contentsOf: t.utf8.map { Int32($0) })
            }
        }
        return ids
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        var out = ""
        for id in ids {
            if id < 256 {
                bytes.append(UInt8(id))
            } else {
                out += String(decoding: bytes, as: UTF8.self)
                bytes = []
                let i = Int(id) - 256
                out += i < specialTokens.count ? specialTokens[i] : ""
            }
        }
        return out + String(decoding: bytes, as: UTF8.self)
    }

    public func specialTokenID(_ content: String) -> Int32? {
        specialTokens.firstIndex(of: content).map { Int32(256 + $0) }
    }
}

/// A piece of input text: either ordinary text or one occurrence of a special token.
enum TextPiece: Equatable {
    case text(Substring)
    case special(String)
}

/// Splits text around occurrences of special tokens, preferring the longest token at each position.
func splitOnSpecialTokens(_ text: String, _ specials: [String]) -> [TextPiece] {
    guard !specials.isEmpty, !text.isEmpty else { return text.isEmpty ? [] : [.text(text[...])] }
    let sorted = specials.sorted { $0.utf8.count > $1.utf8.count }
    var pieces: [TextPiece] = []
    var start = text.startIndex
    var i = text.startIndex
    while i < text.endIndex {
        if let match = sorted.first(where: { text[i...].hasPrefix($0) }) {
            if start < i { pieces.append(.text(text[start..<i])) }
            pieces.append(.special(match))
            i = text.index(i, offsetBy: match.count)
            start = i
        } else {
            i = text.index(after: i)
        }
    }
    if start < text.endIndex { pieces.append(.text(text[start...])) }
    return pieces
}
