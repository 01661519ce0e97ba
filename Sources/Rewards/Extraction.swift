/// Code found in a model response.
public struct ExtractedCode: Sendable, Hashable {
    public var code: String
    /// The fence's tag as written (`python`, `cpp`, ...), nil when the fence had none.
    public var tag: String?
    /// The language the code is graded in: C++ for `cpp`/`c++`/`cxx`/`cc` tags, else Python.
    public var language: Language
}

public enum CodeExtractor {
    /// DeepCoder's rule (`re.findall(r"```(?:\w+)?\n(.*?)```", text, re.DOTALL)`, last match,
    /// stripped): the last *closed* fenced block; the tag must be word characters and the
    /// newline right after it is required. Unlike the reference, the tag picks the language
    /// (a ```cpp block is graded as C++, not run as Python). Nil: no block (reward 0, `no_code`).
    public static func extract(_ text: String) -> ExtractedCode? {
        let u = Array(text.utf8)
        let n = u.count
        var last: (tag: String?, start: Int, end: Int)?
        var i = 0
        let tick = UInt8(ascii: "`")
        while i + 2 < n {
            guard u[i] == tick, u[i + 1] == tick, u[i + 2] == tick else { i += 1; continue }
            // An opening fence: ``` then \w* then \n.
            var j = i + 3
            while j < n, isWordByte(u, j) { j += 1 }
            guard j < n, u[j] == UInt8(ascii: "\n") else { i += 1; continue }
            let bodyStart = j + 1
            // Non-greedy: the first ``` after the newline closes the block.
            var k = bodyStart
            var close = -1
            while k + 2 < n {
                if u[k] == tick, u[k + 1] == tick, u[k + 2] == tick { close = k; break }
                k += 1
            }
            guard close >= 0 else { break }  // unclosed: no later match can start before it ends
            let tag = j > i + 3 ? String(decoding: u[(i + 3)..<j], as: UTF8.self) : nil
            last = (tag, bodyStart, close)
            i = close + 3
        }
        guard let last else { return nil }
        let code = String(Checker.pyStrip(Substring(String(decoding: u[last.start..<last.end], as: UTF8.self))))
        return ExtractedCode(code: code, tag: last.tag, language: language(forTag: last.tag))
    }

    /// The language a fence tag names; Python for anything else.
    public static func language(forTag tag: String?) -> Language {
        switch tag?.lowercased() {
        case "cpp", "c++", "cxx", "cc", "cplusplus": .cpp
        default: .python
        }
    }

    /// `\w` in Python 3's `re` on str: letters, digits and underscore (Unicode). Non-ASCII
    /// bytes are treated as word characters (they are letters in nearly every real tag).
    private static func isWordByte(_ u: [UInt8], _ j: Int) -> Bool {
        let c = u[j]
        if c >= 0x80 { return true }
        return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
    }
}

public enum TestSampler {
    /// DeepCoder's selection: with more than `maxTests` tests keep the `maxTests` with the
    /// longest input (`TestCase.inputLength`), ties in file order (a stable sort), then keep
    /// them in that order. The problem's entry point is untouched (the reference drops
    /// `fn_name` here, rllm#128). `maxTests <= 0`: all tests.
    public static func sample(_ tests: [TestCase], maxTests: Int) -> [TestCase] {
        guard maxTests > 0, tests.count > maxTests else { return tests }
        let order = tests.indices.map { ($0, tests[$0].inputLength) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return order.prefix(maxTests).map { tests[$0.0] }
    }

    /// The indices (into `tests`) that `sample` keeps, in the same order.
    public static func sampleIndices(_ tests: [TestCase], maxTests: Int) -> [Int] {
        guard maxTests > 0, tests.count > maxTests else { return Array(tests.indices) }
        return tests.indices.map { ($0, tests[$0].inputLength) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            .prefix(maxTests).map(\.0)
    }
}
