import Rewards

/// The cheap per-problem steps before anything runs: test splitting, duplicate tests, the
/// statement check, and problems that cannot pass later steps anyway.
public enum Filters {
    /// At least this many words in a statement.
    public static let minimumStatementWords = 5

    /// Splits assert scripts into single-assert tests (`TestSplitter`); returns the new tests and
    /// whether anything changed.
    public static func splitTests(_ p: Problem) -> [TestCase]? {
        guard p.tests.contains(where: { if case .script = $0.kind { true } else { false } }) else { return nil }
        var out: [TestCase] = []
        var changed = false
        for t in p.tests {
            guard case .script(let s) = t.kind, let parts = TestSplitter.split(s, entryPoint: p.entryPoint, callsCheck: p.scriptCallsCheck) else {
                out.append(t)
                continue
            }
            changed = true
            for (k, part) in parts.enumerated() { out.append(.script(part, name: (t.name ?? "script") + "#\(k)")) }
        }
        return changed ? out : nil
    }

    /// The tests with exact repeats removed (same kind, input and expected output; names are
    /// ignored), first occurrence kept, and how many were removed.
    public static func removingDuplicateTests(_ tests: [TestCase]) -> ([TestCase], Int) {
        var seen = Set<TestCase.Kind>()
        var out: [TestCase] = []
        for t in tests where seen.insert(t.kind).inserted { out.append(t) }
        return (out, tests.count - out.count)
    }

    /// Why the statement is unusable, or nil. Empty: missing or only whitespace. Malformed:
    /// fewer than `minimumStatementWords` words, or text that did not decode (U+FFFD) or holds
    /// control characters other than tab/newline/CR (binary or truncated data).
    public static func statementProblem(_ statement: String?) -> DropReason? {
        guard let s = statement, s.contains(where: { !$0.isWhitespace }) else { return .emptyStatement }
        if s.unicodeScalars.contains(where: { $0 == "\u{FFFD}" || ($0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r") || $0.value == 0x7F }) {
            return .malformedStatement
        }
        if Text.words(s).count < minimumStatementWords { return .malformedStatement }
        return nil
    }
}
