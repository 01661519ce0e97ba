/// Splits one assert script into one test per assert, so "how many tests" means what it says.
///
/// Every Python set `Rewards` reads ships its tests as ONE script (HumanEval's and LeetCode's
/// `def check(candidate):` with many asserts, MBPP's list of asserts), so without this every
/// such problem would have one test and `--min-tests 5` would drop them all. Test k is the script
/// with only the k-th assert statement kept: everything that is not an assert (imports,
/// assignments, helper definitions) before it stays, in order, so the assert sees the same
/// names; later statements are left out. An assert that can never fail (`assert True, "…"`,
/// which HumanEval uses as a debugging marker) or, in a `check(candidate)` script, one that
/// never mentions `candidate`, is not a test and is dropped. A compound statement (a loop or
/// `with`) that holds asserts is one test.
///
/// The split is done on logical lines (brackets, strings, triple quotes, backslashes and
/// comments are tracked), never by running the script. A script that cannot be split
/// (unbalanced, no asserts, one assert) is left as it is.
public enum TestSplitter {
    /// The split scripts, or nil when `script` stays one test.
    public static func split(_ script: String, entryPoint: String?, callsCheck: Bool) -> [String]? {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let def = lines.firstIndex(where: { $0.hasPrefix("def check(") && $0.trimmingTrailing().hasSuffix(":") }) {
            // Body: the indented lines after the header, up to the next line at column 0.
            var end = def + 1
            while end < lines.count {
                let l = lines[end]
                if let f = l.first, f != " ", f != "\t", f != "#" { break }
                end += 1
            }
            guard let statements = logicalStatements(Array(lines[(def + 1)..<end])) else { return nil }
            let tests = assemble(statements, isTest: { s in isRealAssert(s) && s.contains("candidate") })
            guard let tests, tests.count > 1 else { return nil }
            let head = lines[..<(def + 1)].joined(separator: "\n") + "\n"
            // Whatever follows the function (rare) stays in every test.
            let tail = end < lines.count ? lines[end...].joined(separator: "\n") : ""
            return tests.map { tail.isEmpty ? head + $0 : head + $0 + "\n" + tail + "\n" }
        }
        guard !callsCheck, let statements = logicalStatements(lines) else { return nil }
        let name = entryPoint.map { String($0.split(separator: ".").last ?? Substring($0)) }
        let tests = assemble(statements, isTest: { s in isRealAssert(s) && (name.map { s.contains($0) } ?? true) })
        guard let tests, tests.count > 1 else { return nil }
        return tests
    }

    /// Each test statement with the non-test statements before it.
    static func assemble(_ statements: [Statement], isTest: (String) -> Bool) -> [String]? {
        var prefix: [String] = []
        var out: [String] = []
        for s in statements {
            if s.isAssertBearing {
                if isTest(s.text) { out.append((prefix + [s.text]).joined(separator: "\n") + "\n") }
            } else {
                prefix.append(s.text)
            }
        }
        return out
    }

    static func isRealAssert(_ text: String) -> Bool {
        let t = text.drop(while: { $0 == " " || $0 == "\t" })
        guard t.hasPrefix("assert") else { return true }  // a compound statement holding asserts
        let rest = t.dropFirst("assert".count).drop(while: { $0 == " " || $0 == "(" })
        if rest.hasPrefix("True") {
            let after = rest.dropFirst(4).drop(while: { $0 == " " || $0 == ")" })
            if after.isEmpty || after.hasPrefix(",") { return false }
        }
        return true
    }

    struct Statement {
        var text: String
        var isAssertBearing: Bool
    }

    /// Top-level logical statements of a block (the indentation of its first code line), with
    /// comment-only and blank lines between statements left out. Nil when brackets or strings
    /// do not balance.
    static func logicalStatements(_ lines: [String]) -> [Statement]? {
        var out: [Statement] = []
        var current: [String] = []
        var bearing = false
        var base: Int?
        var scanner = Scanner()
        func flush() {
            if !current.isEmpty { out.append(Statement(text: current.joined(separator: "\n"), isAssertBearing: bearing)) }
            current = []
            bearing = false
        }
        for line in lines {
            let stripped = line.drop(while: { $0 == " " || $0 == "\t" })
            let indent = line.count - stripped.count
            if scanner.isOpen {
                current.append(line)
                scanner.scan(line)
                continue
            }
            if stripped.isEmpty || stripped.hasPrefix("#") { continue }
            if base == nil { base = indent }
            let continuesCompound = indent > base! || ["else", "elif", "except", "finally"].contains { kw in
                stripped.hasPrefix(kw) && stripped.dropFirst(kw.count).first.map { $0 == ":" || $0 == " " } ?? false
            }
            if indent < base! { return nil }
            if !continuesCompound || current.isEmpty { flush() }
            current.append(line)
            if stripped.hasPrefix("assert ") || stripped.hasPrefix("assert(") { bearing = true }
            scanner.scan(line)
        }
        if scanner.isOpen { return nil }
        flush()
        return out
    }

    /// Tracks whether a logical line is still open after a physical one.
    struct Scanner {
        var depth = 0
        var quote: String?      // the open string's delimiter (', ", ''' or """)
        var backslash = false

        var isOpen: Bool { depth > 0 || quote != nil || backslash }

        mutating func scan(_ line: String) {
            let c = Array(line)
            var i = 0
            backslash = false
            while i < c.count {
                if let q = quote {
                    if c[i] == "\\" { i += 2; continue }
                    if String(c[i..<min(i + q.count, c.count)]) == q { quote = nil; i += q.count; continue }
                    i += 1
                    continue
                }
                switch c[i] {
                case "#": return
                case "\\" where i == c.count - 1: backslash = true; return
                case "(", "[", "{": depth += 1
                case ")", "]", "}": depth = max(0, depth - 1)
                case "'", "\"":
                    let triple = i + 2 < c.count && c[i + 1] == c[i] && c[i + 2] == c[i]
                    quote = triple ? String(repeating: c[i], count: 3) : String(c[i])
                    i += triple ? 3 : 1
                    continue
                default: break
                }
                i += 1
            }
            // A single-quoted string cannot span lines (without a backslash): treat it as closed.
            if let q = quote, q.count == 1 { quote = nil }
        }
    }
}

extension String {
    func trimmingTrailing() -> Substring {
        var s = Substring(self)
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}
