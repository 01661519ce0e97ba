extension CallComparison {
    /// True when a call's `actual` return value (the driver's encoding) is accepted for `expected`.
    public func matches(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        switch self {
        case .exact:
            return PyValue.equal(actual, expected, tolerance: nil)
        case .tacoUnwrap:
            if PyValue.equal(actual, expected, tolerance: nil) { return true }
            if case .array(let items) = expected, let first = items.first { return PyValue.equal(actual, first, tolerance: nil) }
            return false
        case .absoluteTolerance(let atol):
            if PyValue.equal(actual, expected, tolerance: nil) { return true }
            var tol = atol
            if tol == 0, PyValue.isFloats(expected) { tol = 1e-6 }
            guard tol != 0 else { return false }
            return PyValue.equal(actual, expected, tolerance: tol)
        }
    }
}

/// Python's `==` on values as the driver encodes them (tuples as lists; `{"$set": [...]}`,
/// `{"$dict": [[k, v], ...]}`, `{"$complex": [re, im]}`, `{"$bytes": s}`, `{"$repr": s}`).
enum PyValue {
    /// EvalPlus `is_floats`: a float, or a non-empty list of floats.
    static func isFloats(_ v: JSONValue) -> Bool {
        if case .double = v { return true }
        if case .array(let a) = v, !a.isEmpty { return a.allSatisfy { if case .double = $0 { return true } else { return false } } }
        return false
    }

    static func tag(_ v: JSONValue) -> (String, JSONValue)? {
        guard case .object(let o) = v, o.count == 1, o[0].0.hasPrefix("$") else { return nil }
        return o[0]
    }

    enum Num { case int(String), double(Double) }

    static func number(_ v: JSONValue) -> Num? {
        switch v {
        case .bool(let b): return .int(b ? "1" : "0")
        case .int(let s): return .int(s)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    /// `tolerance` nil: exact. Otherwise numbers (not booleans) match within
    /// `tolerance + 1e-7 * |expected|` (numpy `assert_allclose(rtol=1e-7, atol=...)`, NaN equal to NaN).
    static func equal(_ a: JSONValue, _ b: JSONValue, tolerance: Double?) -> Bool {
        if let na = number(a), let nb = number(b) {
            switch (na, nb) {
            case let (.int(x), .int(y)): return x == y
            default:
                let x = double(na), y = double(nb)
                if x == y { return true }
                guard let tol = tolerance else { return false }
                if x.isNaN && y.isNaN { return true }
                return abs(x - y) <= tol + 1e-7 * abs(y)
            }
        }
        switch (a, b) {
        case (.null, .null): return true
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1, tolerance: tolerance) }
        case let (.object(x), .object(y)):
            if let ta = tag(a), let tb = tag(b) {
                guard ta.0 == tb.0 else { return false }
                switch ta.0 {
                case "$set": return unorderedEqual(ta.1.arrayValue ?? [], tb.1.arrayValue ?? [], tolerance: tolerance)
                case "$dict": return unorderedEqual(ta.1.arrayValue ?? [], tb.1.arrayValue ?? [], tolerance: tolerance)
                default: return equal(ta.1, tb.1, tolerance: tolerance)
                }
            }
            if tag(a) != nil || tag(b) != nil { return false }
            // dict ==: same keys, equal values, any order.
            guard x.count == y.count else { return false }
            var lookup: [String: JSONValue] = [:]
            for (k, v) in y { lookup[k] = v }
            guard lookup.count == y.count else { return false }
            for (k, v) in x {
                guard let w = lookup[k], equal(v, w, tolerance: tolerance) else { return false }
            }
            return true
        default:
            return false
        }
    }

    static func double(_ n: Num) -> Double {
        switch n {
        case .int(let s): Double(s) ?? .nan
        case .double(let d): d
        }
    }

    static func unorderedEqual(_ x: [JSONValue], _ y: [JSONValue], tolerance: Double?) -> Bool {
        guard x.count == y.count else { return false }
        var used = [Bool](repeating: false, count: y.count)
        outer: for v in x {
            for (j, w) in y.enumerated() where !used[j] && equal(v, w, tolerance: tolerance) {
                used[j] = true
                continue outer
            }
            return false
        }
        return true
    }
}
