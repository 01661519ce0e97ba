import Hummingbird
import NIOCore
import Rewards

/// A client error with a message that says what is wrong (`{"error": {"message": ...}}`).
func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message: message) }

/// Reads a request body as one JSON document: at most `limit` bytes (413 beyond, see
/// ``readBody(_:limit:drainLimit:)``), valid UTF-8 (400 naming the first bad byte), valid JSON
/// (400 naming the offset).
func readJSON(_ request: Request, limit: Int) async throws -> JSONValue {
    let buffer = try await readBody(request, limit: limit, drainLimit: 4 * limit)
    let bytes = buffer.readableBytesView
    guard !bytes.isEmpty else { throw badRequest("the request body is empty; send a JSON object") }
    if let offset = firstInvalidUTF8(bytes) {
        throw badRequest("the request body is not valid UTF-8 (first bad byte at offset \(offset))")
    }
    do {
        return try JSONValue(parsing: ArraySlice(bytes))
    } catch {
        throw badRequest("malformed JSON: \(error.description)")
    }
}

/// Offset of the first byte that does not belong to valid UTF-8, or nil.
func firstInvalidUTF8<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
    var decoder = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch decoder.parseScalar(from: &iterator) {
        case .valid(let encoded): offset += encoded.count
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

/// Typed access to one JSON object with errors that name the field path.
struct Fields {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String = "", what: String = "the request body") throws {
        guard case .object = value else {
            throw badRequest("\(path.isEmpty ? what : "'\(path)'") must be a JSON object, got \(value.typeName)")
        }
        self.value = value
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Present and not null.
    func has(_ key: String) -> Bool { value[key].map { !$0.isNull } ?? false }

    func wrongType(_ key: String, _ expected: String, _ v: JSONValue) -> HTTPError {
        badRequest("field '\(name(key))' must be \(expected), got \(v.typeName)")
    }

    func string(_ key: String) throws -> String {
        guard let v = value[key], !v.isNull else { throw badRequest("field '\(name(key))' is missing") }
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = value[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let v = value[key], !v.isNull else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw wrongType(key, "a number", v) }
        return d
    }

    /// A limit the client may send: a number within `range` (NaN and Infinity are in none), else
    /// a 400 that gives the range.
    func optionalLimit(_ key: String, _ range: ClosedRange<Double>, _ unit: String) throws -> Double? {
        guard let v = value[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw wrongType(key, "a number", v) }
        if let problem = LimitRanges.violation(d, range, unit) { throw badRequest("field '\(name(key))' \(problem)") }
        return d
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = value[key], !v.isNull else { return nil }
        if let i = v.intValue { return i }
        if let d = v.doubleValue, d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        throw wrongType(key, "an integer", v)
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = value[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw wrongType(key, "true or false", v) }
        return b
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let v = value[key], !v.isNull else { throw badRequest("field '\(name(key))' is missing") }
        guard let a = v.arrayValue else { throw wrongType(key, "an array", v) }
        return a
    }

    func optionalArray(_ key: String) throws -> [JSONValue]? {
        guard let v = value[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw wrongType(key, "an array", v) }
        return a
    }

    func optionalObject(_ key: String) throws -> Fields? {
        guard let v = value[key], !v.isNull else { return nil }
        return try Fields(v, path: name(key))
    }
}

/// A JSON response.
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText)))
}

extension JSONValue {
    static func ms(_ v: Double) -> JSONValue { .double((v * 10).rounded() / 10) }
    static func seconds(_ ms: Double) -> JSONValue { .double((ms / 1000 * 10000).rounded() / 10000) }
}
