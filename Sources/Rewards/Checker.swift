/// Compares a program's stdout with the expected output of a stdio test.
///
/// - `lcb` (the default): LiveCodeBench. Both sides are `strip()`ped and split on "\n", every
///   line stripped; the line counts must match and each line must be equal as a string, or
///   both lines must be whitespace-separated decimal numbers that are exactly equal as decimals
///   (`3` = `3.0` = `3e0`; no tolerance).
/// - `tolerance(absolute:relative:caseSensitive:)`: whitespace tokens (line structure ignored,
///   as Kattis/Code Jam's default validator); a token pair passes if equal, or if both are
///   numbers within the absolute OR the relative tolerance. Use it where a problem declares a
///   float tolerance.
/// - `tacoLenient`: reproduces the outcomes of DeepCoder's TACO/PrimeIntellect comparator
///   (`compare_std_results`, deepcoder-spec §1.7) for people reproducing DeepCoder's numbers.
///   **It accepts wrong answers**: non-numeric tokens are never compared, so `NO` passes for
///   `YES` and `hello` for `world`; numbers match with `np.isclose` (rtol 1e-5, atol 1e-8);
///   empty lines are ignored and the order of lines does not matter.
/// - `exact`: the whole outputs equal after removing trailing whitespace of each line and
///   trailing empty lines.
public enum Checker: Sendable, Hashable {
    case lcb
    case tolerance(absolute: Double, relative: Double, caseSensitive: Bool)
    case tacoLenient
    case exact

    /// Names accepted by `--checker` and the native format's `checker` field.
    public static let names = ["lcb", "default", "tolerance", "tolerance:EPS", "taco-lenient", "exact"]

    /// Parses `lcb`/`default`, `tolerance` (1e-6) or `tolerance:1e-9`, `taco-lenient`, `exact`.
    public init?(name: String) {
        let n = name.lowercased()
        switch n {
        case "lcb", "default", "livecodebench": self = .lcb
        case "taco-lenient", "taco": self = .tacoLenient
        case "exact": self = .exact
        case "tolerance": self = .tolerance(absolute: 1e-6, relative: 1e-6, caseSensitive: true)
        default:
            if n.hasPrefix("tolerance:"), let eps = Double(n.dropFirst("tolerance:".count)), eps >= 0 {
                self = .tolerance(absolute: eps, relative: eps, caseSensitive: true)
            } else {
                return nil
            }
        }
    }

    public var name: String {
        switch self {
        case .lcb: "lcb"
        case .tacoLenient: "taco-lenient"
        case .exact: "exact"
        case .tolerance(let a, let r, _): a == r ? "tolerance:\(a)" : "tolerance:abs=\(a),rel=\(r)"
        }
    }

    /// True when `actual` (the program's stdout) is accepted for `expected`.
    public func accepts(_ actual: String, _ expected: String) -> Bool {
        switch self {
        case .lcb: return Checker.lcbCompare(actual, expected)
        case .tacoLenient: return Checker.tacoCompare(actual, expected)
        case .exact: return Checker.trimmedLines(actual) == Checker.trimmedLines(expected)
        case let .tolerance(a, r, cs): return Checker.toleranceCompare(actual, expected, absolute: a, relative: r, caseSensitive: cs)
        }
    }

    // MARK: - Implementations

    static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" }

    /// Python's `str.strip()` for ASCII whitespace.
    static func pyStrip(_ s: Substring) -> Substring {
        var t = s
        while let f = t.first, isSpace(f) { t = t.dropFirst() }
        while let l = t.last, isSpace(l) { t = t.dropLast() }
        return t
    }

    static func tokens(_ s: Substring) -> [Substring] {
        s.split(whereSeparator: { isSpace($0) })
    }

    static func lines(_ s: Substring) -> [Substring] {
        s.split(separator: "\n", omittingEmptySubsequences: false)
    }

    static func trimmedLines(_ s: String) -> [Substring] {
        var out = lines(Substring(s)).map { line -> Substring in
            var t = line
            while let l = t.last, isSpace(l) { t = t.dropLast() }
            return t
        }
        while out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    static func lcbCompare(_ actual: String, _ expected: String) -> Bool {
        let a = lines(pyStrip(Substring(actual))).map { pyStrip($0) }
        let e = lines(pyStrip(Substring(expected))).map { pyStrip($0) }
        guard a.count == e.count else { return false }
        for (x, y) in zip(a, e) where x != y {
            let xt = tokens(x), yt = tokens(y)
            guard !xt.isEmpty, xt.count == yt.count else { return false }
            for (p, q) in zip(xt, yt) {
                guard let dp = ExactDecimal(p), let dq = ExactDecimal(q), dp == dq else { return false }
            }
        }
        return true
    }

    static func toleranceCompare(_ actual: String, _ expected: String, absolute: Double, relative: Double, caseSensitive: Bool) -> Bool {
        let a = tokens(Substring(actual)), e = tokens(Substring(expected))
        guard a.count == e.count else { return false }
        for (x, y) in zip(a, e) {
            if x == y { continue }
            if !caseSensitive, x.lowercased() == y.lowercased() { continue }
            guard let dx = parseNumber(x), let dy = parseNumber(y) else { return false }
            let diff = abs(dx - dy)
            if diff <= absolute || diff <= relative * abs(dy) { continue }
            return false
        }
        return true
    }

    /// `np.isclose(a, b)`: |a - b| <= 1e-8 + 1e-5 * |b|.
    static func isClose(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }
        return abs(a - b) <= 1e-8 + 1e-5 * abs(b)
    }

    static func tacoCompare(_ actual: String, _ expected: String) -> Bool {
        let sa = pyStrip(Substring(actual)), se = pyStrip(Substring(expected))
        if sa == se { return true }
        if let fa = parsePythonFloat(sa), let fe = parsePythonFloat(se), isClose(fa, fe) { return true }
        // Lines without the empty ones, same shape; only numeric token pairs are compared.
        let la = lines(sa).map { pyStrip($0) }.filter { !$0.isEmpty }
        let le = lines(se).map { pyStrip($0) }.filter { !$0.isEmpty }
        if la.count == le.count, !la.isEmpty {
            var ok = true
            for (x, y) in zip(la, le) {
                let xt = tokens(x), yt = tokens(y)
                guard xt.count == yt.count else { ok = false; break }
                for (p, q) in zip(xt, yt) {
                    if let fp = parsePythonFloat(p), let fq = parsePythonFloat(q) {
                        if !isClose(fp, fq) { ok = false; break }
                    }
                    // A non-numeric pair is never compared (the reference swallows the exception).
                }
                if !ok { break }
            }
            if ok { return true }
        }
        // The set fallback: line order and repeated lines do not matter.
        if !la.isEmpty {
            let setA = Set(la.map { Set(tokens($0).map(String.init)) })
            let setE = Set(le.map { Set(tokens($0).map(String.init)) })
            if setA == setE { return true }
        }
        return false
    }

    /// A decimal number token (`-1`, `2.50`, `1e5`, `.5`), as a Double.
    static func parseNumber(_ s: Substring) -> Double? {
        guard ExactDecimal(s) != nil else { return nil }
        return Double(s)
    }

    /// Python's `float()` on a stripped token: decimal numbers plus inf/nan spellings.
    static func parsePythonFloat(_ s: Substring) -> Double? {
        if let d = parseNumber(s) { return d }
        switch s.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: return nil
        }
    }
}

/// An exact decimal value parsed from text (Python's `Decimal` for finite numbers): sign,
/// significant digits without leading or trailing zeros, and a power-of-ten exponent.
struct ExactDecimal: Equatable {
    var negative: Bool
    var digits: [UInt8]
    var exponent: Int

    init?(_ text: Substring) {
        var u = Array(text.utf8)[...]
        guard !u.isEmpty else { return nil }
        var neg = false
        if u.first == UInt8(ascii: "-") || u.first == UInt8(ascii: "+") { neg = u.first == UInt8(ascii: "-"); u = u.dropFirst() }
        var intPart: [UInt8] = [], fracPart: [UInt8] = []
        while let c = u.first, c >= 0x30, c <= 0x39 { intPart.append(c - 0x30); u = u.dropFirst() }
        if u.first == UInt8(ascii: ".") {
            u = u.dropFirst()
            while let c = u.first, c >= 0x30, c <= 0x39 { fracPart.append(c - 0x30); u = u.dropFirst() }
        }
        guard !intPart.isEmpty || !fracPart.isEmpty else { return nil }
        var exp = 0
        if let c = u.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            u = u.dropFirst()
            var eneg = false
            if u.first == UInt8(ascii: "-") || u.first == UInt8(ascii: "+") { eneg = u.first == UInt8(ascii: "-"); u = u.dropFirst() }
            var ed: [UInt8] = []
            while let c = u.first, c >= 0x30, c <= 0x39 { ed.append(c - 0x30); u = u.dropFirst() }
            guard !ed.isEmpty, ed.count < 10 else { return nil }
            exp = ed.reduce(0) { $0 * 10 + Int($1) } * (eneg ? -1 : 1)
        }
        guard u.isEmpty else { return nil }
        var all = intPart + fracPart
        exp -= fracPart.count
        while all.first == 0 { all.removeFirst() }
        while all.last == 0 { all.removeLast(); exp += 1 }
        if all.isEmpty { negative = false; digits = []; exponent = 0; return }
        negative = neg
        digits = all
        exponent = exp
    }
}
